package wsconn

import (
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Window is how many bytes a client may have in flight: written to its
// connection but not yet confirmed read. Without this bound the kernel's
// socket buffers (several MB on loopback) would hide a slow reader's
// backlog, so that it neither counts as behind a server's history nor
// answers pings in time.
const Window = 128 << 10

// Flow is a client's application-level flow control. The confirmation is
// the pong to a WebSocket ping: a client answers a ping only after reading
// everything sent before it. The pings (Keep, Request) record, per ping,
// how many bytes had been sent; OnPong turns that into acknowledged bytes.
//
// It relies on what coder/websocket does with pings: Conn.Ping sends the
// number of pings the connection has sent so far, in decimal, as the
// payload ("1", "2", ...), and the peer echoes it in its pong. The Flow
// must be the only caller of Ping on the connection.
type Flow struct {
	sent     atomic.Int64  // bytes of messages written (by the writer)
	acked    atomic.Int64  // bytes the client has confirmed reading
	lastPong atomic.Int64  // UnixNano of the last pong: a sign of life
	ackc     chan struct{} // cap 1: acked advanced

	mu    sync.Mutex
	count int64      // pings sent; the library's ping payload is this count in decimal
	marks []flowMark // pings awaiting their pong, oldest first
	keep  keepState  // the keepalive (keep.go)
}

type flowMark struct{ id, offset int64 }

// NewFlow returns a Flow with nothing sent.
func NewFlow() *Flow {
	return &Flow{ackc: make(chan struct{}, 1)}
}

// Sent counts n bytes written to the connection.
func (f *Flow) Sent(n int) { f.sent.Add(int64(n)) }

// InFlight is how many bytes were written and not yet confirmed read.
func (f *Flow) InFlight() int64 { return f.sent.Load() - f.acked.Load() }

// Acked receives when the peer has confirmed more bytes.
func (f *Flow) Acked() <-chan struct{} { return f.ackc }

// LastPong is when the last pong came (the zero time if none has).
func (f *Flow) LastPong() time.Time {
	if n := f.lastPong.Load(); n != 0 {
		return time.Unix(0, n)
	}
	return time.Time{}
}

// mark records the offset the next ping confirms. Only the Flow calls
// Ping on the connection, one ping at a time, so its pings are numbered
// 1, 2, 3...
func (f *Flow) mark() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.count++
	f.marks = append(f.marks, flowMark{f.count, f.sent.Load()})
	if len(f.marks) > 64 { // pongs that never came
		f.marks = slices.Delete(f.marks, 0, 1)
	}
}

// OnPong is the library's OnPongReceived callback.
func (f *Flow) OnPong(payload []byte) {
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
