package wsclient

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/coder/websocket"

	"github.com/wsbridge/wsbridge/internal/periodic"
	"github.com/wsbridge/wsbridge/internal/wsproto"
)

// Conn is one open connection. Read must be called from one goroutine;
// Write and WriteJSON may be called concurrently with it. Close is
// idempotent.
type Conn struct {
	ws *websocket.Conn
	// Hello is the server's first message; nil for a server without one
	// (Options.AnyServer).
	Hello *wsproto.Hello
	// Opened is when the handshake completed.
	Opened time.Time

	rctx    context.Context // reads: shutdown closes the connection instead of cancelling them
	cancel  context.CancelFunc
	stop    func() bool
	pending *message // the first message of a server without a hello
	dead    chan struct{}
}

type message struct {
	typ  websocket.MessageType
	data []byte
}

// Dial connects to url (already carrying ?format, ?since, ?epoch) and reads
// the hello. Cancelling ctx later closes the connection with 1000.
func (c *Client) dial(ctx context.Context, url string) (*Conn, error) {
	o := &c.o
	target := DisplayURL(o.URL)
	dctx, cancel := context.WithTimeout(ctx, o.DialTimeout)
	defer cancel()
	ws, resp, err := websocket.Dial(dctx, url, &websocket.DialOptions{HTTPClient: c.http, HTTPHeader: c.header})
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, dialError(target, err, resp)
	}
	ws.SetReadLimit(o.MaxMessage)
	cn := &Conn{ws: ws, Opened: time.Now(), dead: make(chan struct{})}
	// Reads use a context that shutdown does not cancel (a cancelled read
	// tears the connection down without a close handshake); shutdown closes
	// the connection with 1000 instead, which ends the read.
	cn.rctx, cn.cancel = context.WithCancel(context.WithoutCancel(ctx))
	cn.stop = context.AfterFunc(ctx, func() { ws.Close(websocket.StatusNormalClosure, "client shutting down") })
	go cn.pinger(o) // before the hello: a silent board is detected too
	if err := cn.readHello(o, target); err != nil {
		cn.CloseNow()
		return nil, err
	}
	return cn, nil
}

// readHello reads the first message: a hello, or (AnyServer) anything,
// kept for the first Read.
func (cn *Conn) readHello(o *Options, target string) error {
	var buf bytes.Buffer
	typ, err := cn.readWithin(o.HelloTimeout, &buf, o.AnyServer)
	if err != nil {
		return temporary(err, "%s: no hello from the server: %v", target, err)
	}
	var h wsproto.Hello
	if typ == websocket.MessageText && json.Unmarshal(buf.Bytes(), &h) == nil && h.Type == wsproto.TypeHello {
		cn.Hello = &h
		return nil
	}
	if o.AnyServer {
		cn.pending = &message{typ: typ, data: bytes.Clone(buf.Bytes())}
		return nil
	}
	return permanent(ErrNotWsbridge, nil, "%s is not a wsbridge stream: its first message is %s, not a hello "+
		"(for a board's own WebSocket server, use sink --input auto, json or text)", target, describe(typ, buf.Bytes()))
}

// readWithin reads one message, giving up after d unless forever. A read
// that times out closes the connection, which is what we want then.
func (cn *Conn) readWithin(d time.Duration, buf *bytes.Buffer, forever bool) (websocket.MessageType, error) {
	ctx := cn.rctx
	if !forever {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, d)
		defer cancel()
	}
	return readMessage(ctx, cn.ws, buf)
}

// describe names a message for an error: its type and its start.
func describe(typ websocket.MessageType, b []byte) string {
	if typ == websocket.MessageBinary {
		return fmt.Sprintf("%d bytes of binary", len(b))
	}
	s := string(b)
	if len(s) > 60 {
		s = s[:60] + "…"
	}
	return fmt.Sprintf("text %q", s)
}

func readMessage(ctx context.Context, ws *websocket.Conn, buf *bytes.Buffer) (websocket.MessageType, error) {
	typ, r, err := ws.Reader(ctx)
	if err != nil {
		return 0, err
	}
	buf.Reset()
	_, err = buf.ReadFrom(r)
	return typ, err
}

// Read reads the next message into buf (reset first). It returns an error
// when the connection ends: the server closed it, the network failed, the
// server stopped answering pings (ErrDead), or the Dial context ended.
func (cn *Conn) Read(buf *bytes.Buffer) (websocket.MessageType, error) {
	if m := cn.pending; m != nil {
		cn.pending = nil
		buf.Reset()
		buf.Write(m.data)
		return m.typ, nil
	}
	typ, err := readMessage(cn.rctx, cn.ws, buf)
	if err != nil {
		select {
		case <-cn.dead:
			return 0, ErrDead
		default:
		}
	}
	return typ, err
}

// ErrDead ends a connection whose server stopped answering pings.
var ErrDead = errors.New("the server stopped answering pings")

// Write sends one message, giving up after 5 s.
func (cn *Conn) Write(ctx context.Context, typ websocket.MessageType, b []byte) error {
	wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	return cn.ws.Write(wctx, typ, b)
}

// WriteJSON sends v as one JSON text message.
func (cn *Conn) WriteJSON(ctx context.Context, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return cn.Write(ctx, websocket.MessageText, b)
}

// Close closes the connection with status 1000 and reason.
func (cn *Conn) Close(reason string) {
	cn.ws.Close(websocket.StatusNormalClosure, reason)
	cn.CloseNow()
}

// CloseNow closes the connection without a close handshake. Idempotent.
func (cn *Conn) CloseNow() {
	cn.stop()
	cn.cancel()
	cn.ws.CloseNow()
}

// pinger closes the connection when the server stops answering pings. It
// pauses while o.Paused() (the reader is blocked on purpose, so nobody
// reads the pongs).
func (cn *Conn) pinger(o *Options) {
	every := o.PingInterval
	if every <= 0 {
		return
	}
	paused := func() bool { return o.Paused != nil && o.Paused() }
	ctx := cn.rctx
	periodic.Every(ctx, every, nil, func() bool {
		if paused() {
			return true
		}
		pctx, cancel := context.WithTimeout(ctx, every)
		err := cn.ws.Ping(pctx)
		cancel()
		if err != nil && ctx.Err() == nil && !paused() {
			close(cn.dead)
			cn.ws.CloseNow()
			return false
		}
		return true
	})
}

// header is the handshake's headers: the token.
func header(token string) http.Header {
	h := http.Header{}
	if token != "" {
		h.Set("Authorization", "Bearer "+token)
	}
	return h
}
