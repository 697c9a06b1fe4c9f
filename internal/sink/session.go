package sink

import (
	"bytes"
	"context"
	"encoding/json"
	"time"

	"github.com/coder/websocket"
	"github.com/rs/zerolog"

	"github.com/wsbridge/wsbridge/internal/wsclient"
	"github.com/wsbridge/wsbridge/internal/wsproto"
)

// Resume is where the next connection starts (wsclient.Handler).
func (s *Sink) Resume() wsclient.Position {
	s.asked = s.stream.position()
	if s.deviceMode.Load() {
		s.asked = wsclient.Position{} // a board resumes nothing: its numbering is the decoder's
	}
	return s.asked
}

// Serve handles one connection until it ends (wsclient.Handler).
func (s *Sink) Serve(ctx context.Context, cn *wsclient.Conn) error {
	if cn.Hello == nil {
		return s.serveDevice(ctx, cn)
	}
	s.deviceMode.Store(false)
	s.hello(ctx, cn.Hello)
	s.st.setConnected(true, time.Now())
	defer s.st.setConnected(false, time.Now())
	var buf bytes.Buffer
	for {
		typ, err := cn.Read(&buf)
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

// hello logs and applies the first message.
func (s *Sink) hello(ctx context.Context, h *wsproto.Hello) {
	n := s.st.connections.Add(1)
	ev := s.log.Info()
	if n > 1 {
		ev = s.log.Warn()
	}
	ev.Str("server", h.Server).Str("channel", h.Channel).Str("epoch", h.Epoch).Str("device_state", h.DeviceState).
		Uint32("rate", h.Rate).Int("channels", h.Channels).Str("sample_type", h.SampleType).
		Uint32("start_seq", h.StartSeq).Uint32("seq", h.Seq).Int("history_frames", h.History.Frames).
		Bool("commands", h.Commands).Uint64("connection", n).Msg("connected to serve")
	s.stream.onHello(ctx, s.asked, h)
	if h.DeviceState == wsproto.StateDown {
		s.log.Warn().Msg("serve reports the device is down; waiting for it")
	}
	s.stream.onDevice(ctx, h.Device)
}

// onText handles a JSON text message from serve.
func (s *Sink) onText(ctx context.Context, b []byte) {
	var probe struct {
		Type string `json:"type"`
	}
	if err := json.Unmarshal(b, &probe); err != nil {
		s.stream.warn("bad_text").Err(err).Msg("ignoring a text message that is not JSON")
		return
	}
	switch probe.Type {
	case wsproto.TypeGap:
		if g, ok := decode[wsproto.Gap](b); ok {
			s.stream.onGap(ctx, g)
		}
	case wsproto.TypeStatus:
		if st, ok := decode[wsproto.Status](b); ok {
			s.onStatus(ctx, st)
		}
	case wsproto.TypeInfo:
		if in, ok := decode[wsproto.Info](b); ok {
			s.stream.onDevice(ctx, &in.Device)
		}
	case wsproto.TypeLog:
		if l, ok := decode[wsproto.Log](b); ok {
			s.lim.event(s.log, zerolog.InfoLevel, "device_log").Str("text", l.Text).Msg("device log")
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
	s.stream.warn("serve_error").Str("code", e.Code).Msgf("serve answered: %s", e.Message)
	s.toPort(ctx, false, e.Code+": "+e.Message)
}

func (s *Sink) onStatus(ctx context.Context, st wsproto.Status) {
	switch st.State {
	case wsproto.StateDown:
		s.stream.warn("device_down").Str("reason", st.Reason).Msg("device down: serve is reopening it")
	case wsproto.StateUp:
		s.lim.event(s.log, zerolog.InfoLevel, "device_up").Str("reason", st.Reason).Msg("device up")
	case wsproto.StateRestart:
		s.stream.onRestart(ctx, st)
	case wsproto.StateStopping:
		s.stream.onStopping(ctx, st)
	}
}

func (s *Sink) onReply(ctx context.Context, ok bool, text string) {
	s.st.replies.Add(1)
	word := "ok"
	if !ok {
		word = "err"
	}
	s.lim.event(s.log, zerolog.InfoLevel, "reply").Bool("ok", ok).Str("text", clip(text, 200)).
		Msgf("device reply: %s %s", word, clip(text, 200))
	s.toPort(ctx, ok, text)
}

// toPort writes a reply into the port when --replies-to-port is set; a
// reply too long for the port is cut (with a marker), logged and counted.
func (s *Sink) toPort(ctx context.Context, ok bool, text string) {
	if !s.o.RepliesToPort {
		return
	}
	c, cut := s.stream.r.replyChunk(ok, text)
	if cut {
		s.st.repliesTruncated.Add(1)
		s.stream.warn("reply_truncated").Int("bytes", len(text)).
			Msg("reply too long for the port: written cut, ending with \"[truncated: N bytes]\" (counted as replies_truncated)")
	}
	s.q.push(ctx, c)
}

// clip shortens s for a log line.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
