package relay

import (
	"context"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// corkMax is how many bytes a corked connection gathers before it writes
// them anyway.
const corkMax = 32 << 10

// corkConn lets a client's writer gather the WebSocket messages of one
// batch into a single write system call: the library flushes after every
// message, which at high frame rates costs a syscall per frame per client.
// Writes from other goroutines (pings, close) go through the same buffer
// while corked. Close is not serialised with Write, so closing the
// connection unblocks a write in progress.
type corkConn struct {
	net.Conn
	raw    func([]byte) (int, error) // writes to the descriptor: see rawWriter
	mu     sync.Mutex
	corked bool
	buf    *[]byte // the gathered bytes, from corkPool; nil between batches

	// unblocked is when (UnixNano) a write last completed after waiting
	// for the peer to make room: proof that the peer is alive and reading,
	// however slowly, even if its pong is still queued behind our frames.
	unblocked atomic.Int64
}

// blockedWrite is how long a write must wait to count as flow-controlled.
const blockedWrite = 10 * time.Millisecond

// write writes p to the connection, noting a flow-controlled completion.
func (c *corkConn) write(p []byte) error {
	start := time.Now()
	_, err := c.raw(p)
	if err == nil {
		if now := time.Now(); now.Sub(start) >= blockedWrite {
			c.unblocked.Store(now.UnixNano())
		}
	}
	return err
}

func (c *corkConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.corked {
		if err := c.write(p); err != nil {
			return 0, err
		}
		return len(p), nil
	}
	if c.buf == nil {
		c.buf = corkPool.Get().(*[]byte)
	}
	*c.buf = append(*c.buf, p...)
	if len(*c.buf) >= corkMax {
		if err := c.flushLocked(); err != nil {
			return 0, err
		}
	}
	return len(p), nil
}

// cork starts gathering writes.
func (c *corkConn) cork() {
	c.mu.Lock()
	c.corked = true
	c.mu.Unlock()
}

// uncork writes what was gathered and stops gathering.
func (c *corkConn) uncork() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.corked = false
	return c.flushLocked()
}

// flushLocked writes the gathered bytes; uncorked, it returns the buffer
// to the pool so that idle clients hold none.
func (c *corkConn) flushLocked() error {
	if c.buf == nil {
		return nil
	}
	var err error
	if b := *c.buf; len(b) > 0 {
		err = c.write(b)
		*c.buf = b[:0]
	}
	if !c.corked { // put back the pointer taken: a new one would cost an allocation per batch
		corkPool.Put(c.buf)
		c.buf = nil
	}
	return err
}

// corkPool holds batch buffers between batches.
var corkPool = sync.Pool{New: func() any { b := make([]byte, 0, corkMax+corkMax/2); return &b }}

// corkListener wraps accepted connections in corkConn.
type corkListener struct{ net.Listener }

func (l corkListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return newCorkConn(c), nil
}

func newCorkConn(c net.Conn) *corkConn {
	return &corkConn{Conn: c, raw: rawWriter(c)}
}

type connKey struct{}

// withConn stores the connection in each request's context (http.Server.ConnContext).
func withConn(ctx context.Context, c net.Conn) context.Context {
	return context.WithValue(ctx, connKey{}, c)
}

// corkOf returns the request's corkConn: every connection Serve accepts
// is one (Listen wraps the listener in corkListener).
func corkOf(ctx context.Context) *corkConn {
	c, _ := ctx.Value(connKey{}).(*corkConn)
	return c
}
