package ingest

import (
	"bufio"
	"context"
	"encoding/binary"
	"fmt"
	"net"
	"net/http"
	"runtime"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/coder/websocket"

	"github.com/wsbridge/wsbridge/internal/wsconn"
)

const (
	// readSize is how much a publisher's connection reads at once: every
	// whole message in it is decoded before the next read.
	readSize = 8 << 10
	// closeWait is how long a session that sent a close frame waits for
	// the peer's before it cuts the connection.
	closeWait = 2 * time.Second
	// closeNoStatus is the code a close frame without a payload stands
	// for (RFC 6455, 7.4.1); it is never sent.
	closeNoStatus = 1005
)

// pubConn is a publisher's WebSocket connection after the handshake:
// coder/websocket's Accept makes it, then frames are read with a
// wsParser and written with a wsWriter over the hijacked connection,
// whatever it is (serve's *wsconn.Conn with raw system calls on Linux, a
// TLS or test server's connection).
//
// Concurrency: next and closeAndDrain belong to the one reading goroutine
// (which alone sees pongs: ping waits for one while it reads). ping, text,
// pong, sendClose and cut are safe for concurrent use; cut is idempotent
// and ends a read in progress.
type pubConn struct {
	nc   net.Conn
	wr   wsWriter
	p    *wsParser
	buf  []byte // bytes read, buf[r:w] not parsed yet
	r, w int
	rerr error // the read's error, returned once buf is used up

	pongMu sync.Mutex
	pongCh chan struct{} // closed (and replaced) by every pong

	cutOnce sync.Once
}

// acceptPub upgrades a request to a publisher's pubConn.
func acceptPub(w http.ResponseWriter, r *http.Request) (*pubConn, error) {
	hc := &hijackCapture{ResponseWriter: w}
	ws, err := websocket.Accept(hc, r, &websocket.AcceptOptions{
		InsecureSkipVerify: true, // Origin checked by the caller
		CompressionMode:    websocket.CompressionDisabled,
	})
	if err != nil {
		return nil, err
	}
	// The library's Conn goes unused: it must not close the connection
	// when the garbage collector finds it.
	runtime.SetFinalizer(ws, nil)
	return newPubConn(hc.conn, hc.pending), nil
}

// newPubConn reads and writes nc; pending are bytes of the peer read
// before the handshake ended.
func newPubConn(nc net.Conn, pending []byte) *pubConn {
	c := &pubConn{nc: nc, wr: wsWriter{c: nc}, p: newWSParser(MaxMessage), pongCh: make(chan struct{})}
	c.buf = make([]byte, max(readSize, len(pending)))
	c.w = copy(c.buf, pending)
	return c
}

// hijackCapture keeps the connection that coder/websocket's Accept
// hijacks, and the bytes of the client that net/http had read already.
type hijackCapture struct {
	http.ResponseWriter
	conn    net.Conn
	pending []byte
}

// Hijack hijacks the wrapped writer's connection.
func (h *hijackCapture) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	c, brw, err := http.NewResponseController(h.ResponseWriter).Hijack()
	if err != nil {
		return c, brw, err
	}
	if n := brw.Reader.Buffered(); n > 0 {
		b, _ := brw.Reader.Peek(n)
		h.pending = append([]byte(nil), b...)
	}
	h.conn = c
	return c, brw, nil
}

// Unwrap lets http.ResponseController reach the original writer.
func (h *hijackCapture) Unwrap() http.ResponseWriter { return h.ResponseWriter }

// next returns the next data message or control frame, reading from the
// connection when the bytes at hand hold no whole one; before runs just
// before each read (nil: none). The event's data is valid until the next
// call.
func (c *pubConn) next(before func()) (wsEvent, error) {
	for {
		if ev, err := c.parse(); err != nil || ev.Op != 0 {
			return ev, err
		}
		if c.rerr != nil {
			return wsEvent{}, c.rerr
		}
		if before != nil {
			before()
		}
		c.r = 0
		c.w, c.rerr = c.nc.Read(c.buf)
	}
}

// parse returns the next event of the bytes at hand: Op 0 when they hold
// no more whole one (they are used up then).
func (c *pubConn) parse() (wsEvent, error) {
	if c.r == c.w {
		return wsEvent{}, nil
	}
	ev, n, err := c.p.next(c.buf[c.r:c.w])
	c.r += n
	return ev, err
}

// idle reports whether everything read has been parsed, without a read
// error waiting to be returned: the next event needs a read.
func (c *pubConn) idle() bool { return c.r == c.w && c.rerr == nil }

// ping sends a ping and waits for a pong (any pong read after it was
// sent), until ctx ends.
func (c *pubConn) ping(ctx context.Context) error {
	c.pongMu.Lock()
	ch := c.pongCh
	c.pongMu.Unlock()
	timeout := commandTimeout
	if d, ok := ctx.Deadline(); ok {
		timeout = time.Until(d)
	}
	if err := c.wr.write(wsconn.OpPing, nil, timeout); err != nil {
		return fmt.Errorf("failed to send a ping: %w", err)
	}
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// gotPong wakes every ping waiting for a pong.
func (c *pubConn) gotPong() {
	c.pongMu.Lock()
	close(c.pongCh)
	c.pongCh = make(chan struct{})
	c.pongMu.Unlock()
}

// pong answers a ping with its payload.
func (c *pubConn) pong(payload []byte) error {
	return c.wr.write(wsconn.OpPong, payload, commandTimeout)
}

// text sends a text message.
func (c *pubConn) text(msg []byte) error { return c.wr.write(wsconn.OpText, msg, commandTimeout) }

// sendClose sends a close frame and gives the peer closeWait to answer
// it: reads fail after that.
func (c *pubConn) sendClose(code uint16, reason string) error {
	err := c.wr.writeClose(code, reason, closeWait)
	c.nc.SetReadDeadline(time.Now().Add(closeWait))
	return err
}

// closeAndDrain sends a close frame, reads (and drops) what the peer
// still sends until its close frame, its end or closeWait, then cuts the
// connection: closing it with unread bytes would reset it, and the peer
// could lose the close frame. Reading goroutine only.
func (c *pubConn) closeAndDrain(code uint16, reason string) {
	defer c.cut()
	if c.sendClose(code, reason) != nil {
		return
	}
	closeWrite(c.nc)    // the peer reads its end after the close frame: it need not answer to end
	if c.p.err != nil { // frames cannot be followed any more: bytes
		for c.rerr == nil {
			_, c.rerr = c.nc.Read(c.buf)
		}
		return
	}
	for {
		ev, err := c.next(nil)
		if err != nil || ev.Op == wsconn.OpClose {
			return
		}
	}
}

// closeWrite ends the sending side of nc, where it can.
func closeWrite(nc net.Conn) {
	if cw, ok := under(nc).(interface{ CloseWrite() error }); ok {
		cw.CloseWrite()
	}
}

// under is the connection serve's *wsconn.Conn wraps, or nc itself.
func under(nc net.Conn) net.Conn {
	if wc, ok := nc.(*wsconn.Conn); ok {
		return wc.Conn
	}
	return nc
}

// cut closes the connection without a close frame.
func (c *pubConn) cut() { c.cutOnce.Do(func() { c.nc.Close() }) }

// parseClose reads a close frame's payload: its code (1005 when empty)
// and reason, or a *MessageError for a bad one.
func parseClose(p []byte) (uint16, string, *MessageError) {
	switch len(p) {
	case 0:
		return closeNoStatus, "", nil
	case 1:
		return 0, "", protocolError("close frame with a 1-byte payload")
	}
	code := binary.BigEndian.Uint16(p)
	if !validCloseCode(code) {
		return 0, "", protocolError(fmt.Sprintf("close code %d is not one a peer may send", code))
	}
	if !utf8.Valid(p[2:]) {
		return 0, "", &MessageError{Reason: "protocol", Code: websocket.StatusInvalidFramePayloadData,
			Msg: "protocol error: close reason is not valid UTF-8", Err: ErrProtocol}
	}
	return code, string(p[2:]), nil
}

// validCloseCode reports whether a peer may send code (RFC 6455, 7.4).
func validCloseCode(code uint16) bool {
	switch {
	case code >= 3000 && code <= 4999:
		return true
	case code < 1000 || code > 1014:
		return false
	}
	return code != 1004 && code != 1005 && code != 1006
}
