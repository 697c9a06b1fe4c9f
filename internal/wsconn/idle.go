package wsconn

import (
	"encoding/binary"
	"errors"
	"io"
	"math"
	"sync/atomic"
)

// ErrIdle is what Read returns on a Conn in idle mode (see AllowIdle)
// when the peer has sent nothing more and the next byte would start a new
// message: no frame or message is cut in two. Wait with WaitRead, then
// read again.
var ErrIdle = errors.New("wsconn: idle: nothing to read between messages (wait with WaitRead)")

// idle is a Conn's idle mode: what lets the goroutine that reads a
// WebSocket wait between messages near the bottom of its stack.
//
// coder/websocket's reader blocks for the next frame deep inside its own
// calls (about 2.6 kB of frames), and the Go runtime keeps a parked
// goroutine's stack at four times what it uses: 8 kB for each client's
// reader, which waits nearly all the time. In idle mode Read returns
// ErrIdle instead of blocking when a new message would start: the library
// hands the error back from Reader without touching the connection's state
// (it was about to read a frame header and has read none of it), and the
// caller waits with WaitRead at a depth whose stack the runtime shrinks to
// 4 kB. The frames the peer sends are followed byte by byte (frames), so
// that Read never returns ErrIdle inside a frame, or between the frames of
// a fragmented message.
type idle struct {
	raw     rawReader
	allowed atomic.Bool
	frames  frames
}

// rawReader reads from the descriptor under a Conn without blocking
// (tryRead: errWouldBlock when there is nothing), and waits for it to be
// readable (wait): rawread_linux.go, made by rawIO.
type rawReader interface {
	tryRead(p []byte) (int, error)
	wait() error
}

var errWouldBlock = errors.New("wsconn: would block")

// trackFrames puts c in idle mode, off until AllowIdle(true): from here
// on Read follows the WebSocket frames the peer sends. Call it before the
// first byte of the WebSocket stream is read, on a connection whose reads
// all go through c. It does nothing where raw reads are not available.
func (c *Conn) trackFrames() {
	if c.rr != nil {
		c.idle = &idle{raw: c.rr}
	}
}

// AllowIdle turns ErrIdle on or off. A reading goroutine turns it on;
// turn it off before anything else reads the connection in another
// goroutine while that one waits, such as coder/websocket's Close, which
// reads the peer's close frame itself and must block for it. It reports
// whether the connection is in idle mode at all.
func (c *Conn) AllowIdle(on bool) bool {
	if c.idle == nil {
		return false
	}
	c.idle.allowed.Store(on)
	return true
}

// Read reads from the connection. In idle mode (AllowIdle) it returns
// ErrIdle when nothing has arrived and the next byte would begin a new
// message.
func (c *Conn) Read(p []byte) (int, error) {
	d := c.idle
	if d == nil {
		return c.rd(p)
	}
	if d.frames.between() && d.allowed.Load() && len(p) > 0 {
		n, err := d.raw.tryRead(p)
		if err == errWouldBlock {
			return 0, ErrIdle
		}
		if err == nil && n == 0 {
			return 0, io.EOF // as net.Conn's Read says the peer's end
		}
		d.frames.feed(p[:n])
		return n, err
	}
	n, err := c.rd(p)
	d.frames.feed(p[:n])
	return n, err
}

// WaitRead waits until the connection has something to read (or the
// peer's end, or an error), parked in the runtime's poller. It returns an
// error once the connection is closed. Without idle mode it returns at
// once.
func (c *Conn) WaitRead() error {
	if c.idle == nil {
		return nil
	}
	return c.idle.raw.wait()
}

// frames follows the frames of a WebSocket client (RFC 6455, 5.2) as their
// bytes are read, to tell when the next byte begins a new message.
type frames struct {
	hdr   [14]byte
	nhdr  int    // bytes of the current frame's header read so far; 0 between frames
	rest  uint64 // payload bytes of the current frame still to come
	inMsg bool   // a data message has begun and its final frame has not been read
}

// between reports whether the next byte begins a new message.
func (f *frames) between() bool { return f.nhdr == 0 && f.rest == 0 && !f.inMsg }

// feed follows the bytes p, read from the peer in order.
func (f *frames) feed(p []byte) {
	for len(p) > 0 {
		if f.rest > 0 {
			k := min(uint64(len(p)), f.rest)
			f.rest -= k
			p = p[k:]
			continue
		}
		f.hdr[f.nhdr] = p[0]
		f.nhdr++
		p = p[1:]
		if f.nhdr < HeaderLen(f.hdr[:f.nhdr]) {
			continue
		}
		h := f.hdr[:f.nhdr]
		if op := h[0] & 0x0f; op < 8 { // data or continuation; control frames may come between
			f.inMsg = h[0]&0x80 == 0
		}
		f.rest, f.nhdr = PayloadLen(h), 0
	}
}

// HeaderLen is the length of a WebSocket frame header whose first bytes
// are h: 2 until the second byte tells the rest (RFC 6455, 5.2).
func HeaderLen(h []byte) int {
	if len(h) < 2 {
		return 2
	}
	n := 2
	switch h[1] & 0x7f {
	case 126:
		n += 2
	case 127:
		n += 8
	}
	if h[1]&0x80 != 0 { // masked: every client frame
		n += 4
	}
	return n
}

// PayloadLen is the payload length a complete header h (HeaderLen bytes)
// announces, at most math.MaxInt64.
func PayloadLen(h []byte) uint64 {
	switch l := h[1] & 0x7f; l {
	case 126:
		return uint64(binary.BigEndian.Uint16(h[2:4]))
	case 127:
		return min(binary.BigEndian.Uint64(h[2:10]), math.MaxInt64)
	default:
		return uint64(l)
	}
}
