package sink

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/coder/websocket"

	"github.com/wsbridge/wsbridge/internal/wsproto"
)

// connectLoop connects to serve for as long as ctx lives, reconnecting
// with backoff. It owns the stream state.
func (s *Sink) connectLoop(ctx context.Context) {
	bo := backoff{min: s.o.BackoffMin, max: s.o.BackoffMax}
	var lastErr string
	for attempt := 1; ctx.Err() == nil; attempt++ {
		healthy, err := s.session(ctx)
		if ctx.Err() != nil {
			return
		}
		if healthy {
			bo.reset()
			attempt = 1
		}
		d := bo.next()
		ev := s.log.Warn()
		if err.Error() == lastErr && attempt > 2 && attempt%10 != 0 {
			ev = s.log.Debug() // the same failure again: every 10th is a warning
		}
		lastErr = err.Error()
		ev.Err(err).Int("attempt", attempt).Dur("retry_in", d).Msg("disconnected from serve; reconnecting")
		select {
		case <-ctx.Done():
			return
		case <-time.After(d):
		}
	}
}

// session runs one connection. healthy reports whether it lasted long
// enough after its hello to reset the backoff.
func (s *Sink) session(ctx context.Context) (healthy bool, err error) {
	since, resume := s.stream.since()
	u := s.client.dialURL(since, resume)
	conn, err := s.client.dial(ctx, u)
	if err != nil {
		return false, fmt.Errorf("failed to connect to %s: %w", s.o.safeURL(), redact(err))
	}
	defer conn.CloseNow()
	// Reads use a context that shutdown does not cancel (a cancelled read
	// tears the connection down without a close handshake); shutdown closes
	// the connection with 1000 instead, which ends the read.
	sctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	defer cancel()
	stop := context.AfterFunc(ctx, func() { conn.Close(websocket.StatusNormalClosure, "sink shutting down") })
	defer stop()
	go pinger(sctx, conn, s.o.PingInterval, s.q.isBlocked, func() {
		s.log.Warn().Dur("ping_interval", s.o.PingInterval).Msg("serve does not answer pings: dropping the connection")
	})
	var buf bytes.Buffer
	start, err := s.hello(ctx, sctx, conn, &buf, since, resume)
	if err != nil {
		return false, err
	}
	s.client.cur.Store(conn)
	s.st.setConnected(true, time.Now())
	err = s.receive(ctx, sctx, conn, &buf)
	s.client.cur.Store(nil)
	s.st.setConnected(false, time.Now())
	return time.Since(start) >= healthyAfter, err
}

// receive handles serve's messages, read with rctx, until the connection
// ends; ctx is the sink's (a full queue under Block waits on it).
func (s *Sink) receive(ctx, rctx context.Context, conn *websocket.Conn, buf *bytes.Buffer) error {
	for {
		typ, err := readMessage(rctx, conn, buf)
		if err != nil {
			return err
		}
		if typ == websocket.MessageBinary {
			s.stream.onBinary(ctx, buf.Bytes())
			continue
		}
		s.onText(ctx, buf.Bytes())
	}
}

// redact hides a token that an error quotes from the dialled URL.
func redact(err error) error {
	msg := err.Error()
	i := strings.Index(msg, "token=")
	if i < 0 {
		return err
	}
	j := i + len("token=")
	for j < len(msg) && msg[j] != '&' && msg[j] != '"' && msg[j] != ' ' && msg[j] != ':' {
		j++
	}
	return errors.New(msg[:i] + "token=REDACTED" + msg[j:])
}

// hello reads and applies the first message.
func (s *Sink) hello(ctx, rctx context.Context, conn *websocket.Conn, buf *bytes.Buffer, since uint32, resume bool) (time.Time, error) {
	hctx, cancel := context.WithTimeout(rctx, 10*time.Second)
	defer cancel()
	typ, err := readMessage(hctx, conn, buf)
	if err != nil {
		return time.Time{}, fmt.Errorf("failed to read hello: %w", err)
	}
	var h wsproto.Hello
	if typ != websocket.MessageText || json.Unmarshal(buf.Bytes(), &h) != nil || h.Type != wsproto.TypeHello {
		return time.Time{}, errors.New("server did not start with a hello message: is --url a wsbridge serve /ws endpoint?")
	}
	n := s.st.connections.Add(1)
	ev := s.log.Info()
	if n > 1 {
		ev = s.log.Warn()
	}
	ev.Str("server", h.Server).Str("device_state", h.DeviceState).Uint32("rate", h.Rate).Int("channels", h.Channels).
		Str("sample_type", h.SampleType).Uint32("start_seq", h.StartSeq).Uint32("seq", h.Seq).
		Int("history_frames", h.History.Frames).Bool("commands", h.Commands).Uint64("connection", n).
		Msg("connected to serve")
	if resume && int32(h.StartSeq-since) < 0 {
		// serve follows with a restart status (counted there) and any gap.
		s.log.Info().Uint32("expected", since).Uint32("start_seq", h.StartSeq).
			Msg("serve starts before the resume point: the device restarted its sequence numbers")
		s.stream.seq.Expect(h.StartSeq)
	}
	if h.DeviceState == wsproto.StateDown {
		s.log.Warn().Msg("serve reports the device is down; waiting for it")
	}
	s.stream.onDevice(ctx, h.Device)
	return time.Now(), nil
}

// onText handles a JSON text message from serve.
func (s *Sink) onText(ctx context.Context, b []byte) {
	var probe struct {
		Type string `json:"type"`
	}
	if err := json.Unmarshal(b, &probe); err != nil {
		s.log.Warn().Err(err).Msg("ignoring a text message that is not JSON")
		return
	}
	switch probe.Type {
	case wsproto.TypeGap:
		if g, ok := decode[wsproto.Gap](b); ok {
			s.stream.onGap(g)
		}
	case wsproto.TypeStatus:
		if st, ok := decode[wsproto.Status](b); ok {
			s.onStatus(st)
		}
	case wsproto.TypeInfo:
		if in, ok := decode[wsproto.Info](b); ok {
			s.stream.onDevice(ctx, &in.Device)
		}
	case wsproto.TypeLog:
		if l, ok := decode[wsproto.Log](b); ok {
			s.log.Info().Str("text", l.Text).Msg("device log")
		}
	case wsproto.TypeReply:
		if r, ok := decode[wsproto.Reply](b); ok {
			s.onReply(ctx, r.OK, r.Text)
		}
	case wsproto.TypeError:
		if e, ok := decode[wsproto.Error](b); ok {
			s.onError(ctx, e)
		}
	default:
		s.log.Debug().Str("type", probe.Type).Msg("ignoring a message of unknown type")
	}
}

// decode unmarshals a message of a known type.
func decode[T any](b []byte) (T, bool) {
	var v T
	return v, json.Unmarshal(b, &v) == nil
}

func (s *Sink) onError(ctx context.Context, e wsproto.Error) {
	s.st.errors.Add(1)
	s.log.Warn().Str("code", e.Code).Msgf("serve answered: %s", e.Message)
	s.toPort(ctx, false, e.Code+": "+e.Message)
}

func (s *Sink) onStatus(st wsproto.Status) {
	switch st.State {
	case wsproto.StateDown:
		s.log.Warn().Str("reason", st.Reason).Msg("device down: serve is reopening it")
	case wsproto.StateUp:
		s.log.Info().Str("reason", st.Reason).Msg("device up")
	case wsproto.StateRestart:
		s.stream.onRestart(st)
	}
}

func (s *Sink) onReply(ctx context.Context, ok bool, text string) {
	s.st.replies.Add(1)
	word := "ok"
	if !ok {
		word = "err"
	}
	s.log.Info().Bool("ok", ok).Str("text", text).Msgf("device reply: %s %s", word, text)
	s.toPort(ctx, ok, text)
}

// toPort writes a reply into the port when --replies-to-port is set.
func (s *Sink) toPort(ctx context.Context, ok bool, text string) {
	if s.o.RepliesToPort {
		s.q.push(ctx, s.stream.r.replyChunk(ok, text))
	}
}
