package record

import (
	"bytes"
	"context"
	"encoding/json"
	"sync/atomic"

	"github.com/coder/websocket"
	"github.com/rs/zerolog"

	"github.com/wsbridge/wsbridge/internal/frame"
	"github.com/wsbridge/wsbridge/internal/wsclient"
	"github.com/wsbridge/wsbridge/internal/wsproto"
)

// event is one thing serve said, handed from the connection goroutine to
// the stream's writer. Exactly one pointer is set.
type event struct {
	hello   *wsproto.Hello
	resumed bool // hello: this connection resumes an earlier one
	frame   *frame.Frame
	gap     *wsproto.Gap
	status  *wsproto.Status
	device  *wsproto.Device
}

// conn is one URL's connection, a wsclient.Handler: wsclient dials,
// resumes from Resume(), pings and reconnects with backoff; Serve turns
// messages into events. Run's goroutine owns it.
type conn struct {
	client      *wsclient.Client
	log         zerolog.Logger
	out         chan<- event
	pos         wsclient.Position // the next frame wanted: where a reconnect resumes
	connections atomic.Uint64
	err         error // why Run ended early (an error that will not heal)
}

func newConn(o *Options, rawURL string, log zerolog.Logger) (*conn, error) {
	cl, err := wsclient.New(wsclient.Options{URL: rawURL, Token: o.Token, CACert: o.CACert, TLS: o.TLS,
		BackoffMin: o.BackoffMin, BackoffMax: o.BackoffMax, Log: log})
	if err != nil {
		return nil, err
	}
	return &conn{client: cl, log: log, pos: o.Since}, nil
}

// run connects until ctx ends or an error will not heal (a bad token, a
// wrong URL), then closes out.
func (c *conn) run(ctx context.Context, out chan<- event) {
	defer close(out)
	c.out = out
	c.err = c.client.Run(ctx, c)
}

// Resume is where the next connection starts.
func (c *conn) Resume() wsclient.Position { return c.pos }

// Serve reads one connection until it ends.
func (c *conn) Serve(ctx context.Context, cn *wsclient.Conn) error {
	h := cn.Hello
	n := c.connections.Add(1)
	c.log.Info().Str("server", h.Server).Str("channel", h.Channel).Str("epoch", h.Epoch).
		Uint32("start_seq", h.StartSeq).Uint64("connection", n).Msg("connected to serve")
	if r := wsclient.CheckResume(c.pos, h); r != nil {
		c.pos = wsclient.Position{Seq: r.Seq, Epoch: r.Epoch, Valid: true}
	} else if c.pos.Epoch == "" {
		c.pos.Epoch = h.Epoch
	}
	if !c.send(ctx, event{hello: h, resumed: n > 1}) {
		return nil
	}
	var buf bytes.Buffer
	for {
		typ, err := cn.Read(&buf)
		if err != nil {
			return err
		}
		if ev, ok := c.decode(typ, buf.Bytes()); ok && !c.send(ctx, ev) {
			return nil
		}
	}
}

func (c *conn) send(ctx context.Context, ev event) bool {
	select {
	case c.out <- ev:
		return true
	case <-ctx.Done():
		return false
	}
}

// decode turns a message into an event and advances the resume position.
func (c *conn) decode(typ websocket.MessageType, b []byte) (event, bool) {
	if typ == websocket.MessageBinary {
		var p frame.Packet
		if err := frame.Parse(&p, b); err != nil || p.Type != frame.TypeData {
			c.log.Warn().Err(err).Int("bytes", len(b)).Msg("ignoring a binary message that is not a valid v1 data frame")
			return event{}, false
		}
		f := p.Frame
		f.Data = bytes.Clone(f.Data[:f.PayloadSize()])
		c.pos.Seq, c.pos.Valid = f.Seq+1, true
		return event{frame: &f}, true
	}
	var probe struct {
		Type string `json:"type"`
	}
	if json.Unmarshal(b, &probe) != nil {
		return event{}, false
	}
	var ev event
	var err error
	switch probe.Type {
	case wsproto.TypeGap:
		ev.gap = new(wsproto.Gap)
		if err = json.Unmarshal(b, ev.gap); err == nil && (!c.pos.Valid || frame.SeqBefore(c.pos.Seq, ev.gap.To+1)) {
			c.pos.Seq, c.pos.Valid = ev.gap.To+1, true
		}
	case wsproto.TypeStatus:
		ev.status = new(wsproto.Status)
		if err = json.Unmarshal(b, ev.status); err == nil && ev.status.State == wsproto.StateRestart {
			c.pos = wsclient.Position{Seq: ev.status.Seq, Epoch: ev.status.Epoch, Valid: true}
		} else if err == nil && ev.status.State == wsproto.StateStopping && c.pos.Valid && int32(ev.status.Seq-c.pos.Seq) > 0 {
			c.pos.Seq = ev.status.Seq // what was not sent is a gap (track.status)
		}
	case wsproto.TypeInfo:
		var in wsproto.Info
		err = json.Unmarshal(b, &in)
		ev.device = &in.Device
	case wsproto.TypeError:
		var e wsproto.Error
		json.Unmarshal(b, &e)
		c.log.Warn().Str("code", e.Code).Msgf("serve answered: %s", e.Message)
		return event{}, false
	default:
		return event{}, false
	}
	if err != nil {
		c.log.Warn().Err(err).Str("type", probe.Type).Msg("ignoring a malformed message")
		return event{}, false
	}
	return ev, true
}
