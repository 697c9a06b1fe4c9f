package wsconn

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

// Conn lets a client's writer gather the WebSocket messages of one batch
// into a single write system call (Cork, then Uncork): the library flushes
// after every message, which at high frame rates costs a syscall per
// frame per client. Writes from other goroutines (pings, close) go through
// the same buffer while corked. Close is not serialised with Write, so
// closing the connection unblocks a write in progress.
type Conn struct {
	net.Conn
	raw    func([]byte) (int, error) // writes to the descriptor: see rawIO
	try    func([]byte) (int, error) // writes without waiting; nil where it cannot (see rawIO)
	rd     func([]byte) (int, error) // reads from it
	mu     sync.Mutex
	corked bool
	ended  bool    // EndData: WriteMessage writes nothing more
	nowait bool    // corked by TryCork: gather whatever the size, never write while gathering
	buf    *[]byte // the gathered bytes, from corkPool; nil between batches

	// unblocked is when (UnixNano) a write last completed after waiting
	// for the peer to make room: proof that the peer is alive and reading,
	// however slowly, even if its pong is still queued behind our frames.
	unblocked atomic.Int64

	idle *idle     // idle mode (idle.go), set up by Lean's Hijack; nil: plain reads
	rr   rawReader // idle mode's raw reads (rawIO); nil where there are none
}

// Unblocked is when a write last completed after waiting at least
// blockedWrite for the peer to read (the zero time if never).
func (c *Conn) Unblocked() time.Time {
	if n := c.unblocked.Load(); n != 0 {
		return time.Unix(0, n)
	}
	return time.Time{}
}

// blockedWrite is how long a write must wait to count as flow-controlled.
const blockedWrite = 10 * time.Millisecond

// write writes p to the connection, noting a flow-controlled completion.
func (c *Conn) write(p []byte) error {
	start := time.Now()
	_, err := c.raw(p)
	if err == nil {
		if now := time.Now(); now.Sub(start) >= blockedWrite {
			c.unblocked.Store(now.UnixNano())
		}
	}
	return err
}

// Write writes p, or gathers it while corked. Safe for concurrent use.
func (c *Conn) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.corked {
		if err := c.write(p); err != nil {
			return 0, err
		}
		return len(p), nil
	}
	if err := c.gatherLocked(p); err != nil {
		return 0, err
	}
	return len(p), nil
}

// gatherLocked appends ps to the gathered bytes of a corked connection,
// writing them once they pass corkMax (unless TryCork's).
func (c *Conn) gatherLocked(ps ...[]byte) error {
	if c.buf == nil {
		c.buf = corkPool.Get().(*[]byte)
	}
	for _, p := range ps {
		*c.buf = append(*c.buf, p...)
	}
	if len(*c.buf) >= corkMax && !c.nowait {
		return c.flushLocked()
	}
	return nil
}

// Cork starts gathering writes. It takes over a TryCork whose bytes
// TryUncork could not all write: Uncork writes them, waiting as needed.
func (c *Conn) Cork() {
	c.mu.Lock()
	c.corked, c.nowait = true, false
	c.mu.Unlock()
}

// TryCork starts gathering writes for a writer that must never wait
// (one that writes for another goroutine, such as a publisher writing to
// a caught-up subscriber): it gathers whatever the size, and TryUncork
// writes without waiting. It fails (false) where the connection cannot
// write without waiting (TLS, not TCP, not Linux), while another
// goroutine is writing to it, and while it is corked already (bytes an
// earlier TryUncork left wait for a writer that may wait: Cork, Uncork).
func (c *Conn) TryCork() bool {
	if c.try == nil || !c.mu.TryLock() {
		return false
	}
	defer c.mu.Unlock()
	if c.corked {
		return false
	}
	c.corked, c.nowait = true, true
	return true
}

// TryUncork writes what TryCork gathered without waiting. When all of it
// went out it stops gathering, as Uncork does, and reports true. When the
// peer's socket took only part (or none) of it, it reports false: the
// rest stays gathered, the connection stays corked, and the next writer
// must Cork and Uncork, which write it first, waiting as needed. A write
// error is returned with false; the bytes stay gathered too.
func (c *Conn) TryUncork() (bool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.buf != nil && len(*c.buf) > 0 {
		b := *c.buf
		n, err := c.try(b)
		*c.buf = b[:copy(b, b[n:])]
		switch {
		case err == errWouldBlock:
			return false, nil
		case err != nil:
			return false, err
		case len(*c.buf) > 0:
			return false, nil
		}
	}
	c.corked, c.nowait = false, false
	return true, c.flushLocked() // nothing left to write: returns the buffer to the pool
}

// Uncork writes what was gathered and stops gathering.
func (c *Conn) Uncork() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.corked = false
	return c.flushLocked()
}

// flushLocked writes the gathered bytes; uncorked, it returns the buffer
// to the pool so that idle clients hold none.
func (c *Conn) flushLocked() error {
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

// Listener wraps accepted connections in Conn.
type Listener struct{ net.Listener }

// Accept returns the next connection as a *Conn.
func (l Listener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return NewConn(c), nil
}

// NewConn wraps c.
func NewConn(c net.Conn) *Conn {
	rd, wr, try, rr := rawIO(c)
	return &Conn{Conn: c, raw: wr, try: try, rd: rd, rr: rr}
}

type connKey struct{}

// WithConn stores the connection in each request's context: it is
// http.Server.ConnContext.
func WithConn(ctx context.Context, c net.Conn) context.Context {
	return context.WithValue(ctx, connKey{}, c)
}

// FromContext returns the request's *Conn, or nil when its connection
// did not come from a Listener.
func FromContext(ctx context.Context) *Conn {
	c, _ := ctx.Value(connKey{}).(*Conn)
	return c
}
