package relay

import (
	"context"
	"errors"
	"net"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wsbridge/wsbridge/internal/periodic"
)

// flowWindow is how many bytes a client may have in flight: written to
// its connection but not yet confirmed read. Without this bound the
// kernel's socket buffers (several MB on loopback) would hide a slow
// reader's backlog, so that it neither counts as behind the history nor
// answers pings in time.
const flowWindow = 128 << 10

// flow is a client's application-level flow control. The confirmation
// is the pong to a WebSocket ping: a client answers a ping only after
// reading everything sent before it. The ping sender records, per ping,
// how many bytes had been sent; the pong callback turns that into acked.
type flow struct {
	sent     atomic.Int64  // bytes of messages written (by the writer)
	acked    atomic.Int64  // bytes the client has confirmed reading
	lastPong atomic.Int64  // UnixNano of the last pong: a sign of life
	ackc     chan struct{} // cap 1: acked advanced
	want     chan struct{} // cap 1: the writer asks for a ping

	mu    sync.Mutex
	count int64      // pings sent; the library's ping payload is this count in decimal
	marks []flowMark // pings awaiting their pong, oldest first
}

type flowMark struct{ id, offset int64 }

func newFlow() *flow {
	return &flow{ackc: make(chan struct{}, 1), want: make(chan struct{}, 1)}
}

func (f *flow) inFlight() int64 { return f.sent.Load() - f.acked.Load() }

// request asks the ping sender for a ping, without waiting.
func (f *flow) request() {
	select {
	case f.want <- struct{}{}:
	default:
	}
}

// mark records the offset the next ping confirms. Only the ping sender
// calls Ping on the connection, so its pings are numbered 1, 2, 3...
func (f *flow) mark() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.count++
	f.marks = append(f.marks, flowMark{f.count, f.sent.Load()})
	if len(f.marks) > 64 { // pongs that never came
		f.marks = slices.Delete(f.marks, 0, 1)
	}
}

// onPong is the library's OnPongReceived callback.
func (f *flow) onPong(payload []byte) {
	f.lastPong.Store(time.Now().UnixNano())
	id, err := strconv.ParseInt(string(payload), 10, 64)
	if err != nil {
		return
	}
	f.mu.Lock()
	var off int64 = -1
	k := 0
	for ; k < len(f.marks) && f.marks[k].id <= id; k++ {
		off = max(off, f.marks[k].offset)
	}
	f.marks = slices.Delete(f.marks, 0, k) // in place: reslicing past the front cost an allocation per ping
	f.mu.Unlock()
	if off > f.acked.Load() {
		f.acked.Store(off) // only this callback stores acked
		select {
		case f.ackc <- struct{}{}:
		default:
		}
	}
}

// pingSender sends a ping every --ping-interval and whenever the writer
// asks, one at a time, until ctx ends.
func (c *client) pingSender(ctx context.Context) {
	iv := c.srv.opts.PingInterval
	periodic.Every(ctx, iv, c.flow.want, func() bool {
		c.flow.mark()
		// Not derived from ctx: a cancelled write would cut the
		// connection before the writer can send its close status. A
		// ping that cannot be written within the write timeout cuts it.
		pctx, cancel := context.WithTimeout(context.Background(), max(iv, c.srv.opts.WriteTimeout))
		err := c.conn.Ping(pctx) // the pong is handled by flow.onPong, however late
		cancel()
		return ctx.Err() == nil && !errors.Is(err, net.ErrClosed)
	})
}
