package sink

import (
	"context"
	"sync"
	"time"
)

// chunk is one unit of output: the rendering of one data frame, or a header
// or reply line. Frame chunks are dropped whole, never split.
type chunk struct {
	data    []byte
	isFrame bool
	seq     uint32
	samples uint64 // sample instants the frame carried (before decimation)
	t0, t1  uint64 // device time of its first and last sample, µs
	dur     time.Duration
	sticky  bool // never dropped (the csv header)
}

// queue is the bounded buffer between the connection loop (the producer)
// and the writer that owns the output port (the consumer). It holds at most
// maxDur of stream and maxBytes of output; when full, push applies the
// policy. All methods are safe for concurrent use.
type queue struct {
	mu       sync.Mutex
	items    []*chunk
	head     int
	dur      time.Duration
	bytes    int
	maxDur   time.Duration
	maxBytes int
	policy   string
	closed   bool
	blocked  bool // the producer is waiting for room (policy block)
	drops    incident
	ready    chan struct{} // signalled when items are added (cap 1)
	room     chan struct{} // signalled when items are removed (cap 1)
}

func newQueue(maxDur time.Duration, maxBytes int, policy string) *queue {
	return &queue{maxDur: maxDur, maxBytes: maxBytes, policy: policy,
		ready: make(chan struct{}, 1), room: make(chan struct{}, 1)}
}

func signal(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

// full reports whether adding c would exceed the limits. An empty queue
// always takes one chunk, however large.
func (q *queue) full(c *chunk) bool {
	if q.len() == 0 {
		return false
	}
	return q.dur+c.dur > q.maxDur || q.bytes+len(c.data) > q.maxBytes
}

func (q *queue) len() int { return len(q.items) - q.head }

// push adds c, applying the policy when the queue is full. Under Block it
// waits for room until ctx is done (then c is counted as dropped).
func (q *queue) push(ctx context.Context, c *chunk) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for q.full(c) && !c.sticky {
		if q.policy == DropNewest {
			q.drop(c)
			return
		}
		if q.policy == Block {
			if !q.waitRoom(ctx) {
				q.drop(c)
				return
			}
			continue
		}
		if !q.dropOldest() {
			break
		}
	}
	q.items = append(q.items, c)
	q.dur += c.dur
	q.bytes += len(c.data)
	signal(q.ready)
}

// dropOldest removes the oldest chunk that is not sticky; false if none.
// The sticky chunks before it (a csv header) move up one place, so the
// cost does not grow with the queue.
func (q *queue) dropOldest() bool {
	for i := q.head; i < len(q.items); i++ {
		c := q.items[i]
		if c.sticky {
			continue
		}
		copy(q.items[q.head+1:i+1], q.items[q.head:i])
		q.items[q.head] = nil
		q.head++
		q.dur -= c.dur
		q.bytes -= len(c.data)
		q.drop(c)
		q.compact()
		return true
	}
	return false
}

// compact moves the queued chunks to the front of items once the taken
// ones fill most of it, so that items does not grow without bound.
func (q *queue) compact() {
	if q.head > 1024 && q.head*2 > len(q.items) {
		n := copy(q.items, q.items[q.head:])
		clear(q.items[n:])
		q.items, q.head = q.items[:n], 0
	}
}

// drop counts a chunk taken off (or refused by) the queue as dropped and
// recycles it.
func (q *queue) drop(c *chunk) {
	q.drops.add(c, time.Now())
	c.release()
}

// waitRoom releases the lock until the writer takes something or ctx ends.
func (q *queue) waitRoom(ctx context.Context) bool {
	q.blocked = true
	defer func() { q.blocked = false }()
	q.mu.Unlock()
	defer q.mu.Lock()
	select {
	case <-q.room:
		return true
	case <-ctx.Done():
		return false
	}
}

// sent describes one chunk of a batch handed to the writer: the chunk
// without its bytes, and where its bytes end in the batch.
type sent struct {
	c   chunk
	end int
}

// pop appends queued chunks to dst, up to max bytes (at least one chunk),
// and their descriptions to meta, waiting until there is one. It returns
// false when the queue is closed and empty, or ctx is done.
func (q *queue) pop(ctx context.Context, dst []byte, max int, meta []sent) ([]byte, []sent, bool) {
	for {
		q.mu.Lock()
		if q.len() > 0 {
			dst, meta = q.take(dst, max, meta)
			q.mu.Unlock()
			signal(q.room)
			return dst, meta, true
		}
		closed := q.closed
		q.mu.Unlock()
		if closed {
			return dst, meta, false
		}
		select {
		case <-q.ready:
		case <-ctx.Done():
			return dst, meta, false
		}
	}
}

// undelivered counts the chunks of a batch whose bytes did not all reach
// the port (n bytes did) as dropped.
func (q *queue) undelivered(meta []sent, n int) {
	q.mu.Lock()
	defer q.mu.Unlock()
	now := time.Now()
	for i := range meta {
		if meta[i].end > n {
			q.drops.add(&meta[i].c, now)
		}
	}
}

func (q *queue) take(dst []byte, max int, meta []sent) ([]byte, []sent) {
	for q.len() > 0 {
		c := q.items[q.head]
		if len(dst) > 0 && len(dst)+len(c.data) > max {
			break
		}
		dst = append(dst, c.data...)
		m := sent{c: *c, end: len(dst)}
		m.c.data = nil
		meta = append(meta, m)
		q.items[q.head] = nil
		q.head++
		q.dur -= c.dur
		q.bytes -= len(c.data)
		c.release()
	}
	q.compact()
	return dst, meta
}

// dropAll counts everything still queued as dropped (at exit, when the
// port was not read) and empties the queue.
func (q *queue) dropAll() {
	q.mu.Lock()
	defer q.mu.Unlock()
	for q.len() > 0 {
		c := q.items[q.head]
		q.items[q.head] = nil
		q.head++
		q.drop(c)
	}
	q.dur, q.bytes = 0, 0
}

// close makes pop return false once the queue is empty.
func (q *queue) close() {
	q.mu.Lock()
	q.closed = true
	q.mu.Unlock()
	signal(q.ready)
}

// level is the queued duration and bytes.
func (q *queue) level() (time.Duration, int) {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.dur, q.bytes
}

// isBlocked reports whether the producer waits for room.
func (q *queue) isBlocked() bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.blocked
}

// dropTotals is the running count of dropped frames and samples.
func (q *queue) dropTotals() (frames, samples uint64) {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.drops.totalFrames, q.drops.totalSamples
}

// incidentReport returns a drop incident to log: started reports a new
// incident once; ended returns the finished one after quiet of no drops.
func (q *queue) incidentReport(now time.Time, quiet time.Duration, final bool) (started, ended *dropReport) {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.drops.report(now, quiet, final)
}
