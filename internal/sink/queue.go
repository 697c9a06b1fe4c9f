package sink

import (
	"context"
	"sync"
	"time"
	"unsafe"
)

// chunk is one unit of output: the rendering of one data frame, a header,
// a reply, or a gap or restart line. Frame chunks are dropped whole, never
// split.
type chunk struct {
	data    []byte
	isFrame bool
	seq     uint32
	samples uint64 // sample instants the frame carried (before decimation)
	t0, t1  uint64 // device time of its first and last sample, µs
	dur     time.Duration
	epoch   string   // the epoch the frame belongs to ("" if unknown)
	sticky  bool     // never dropped (the csv header, gap and restart lines)
	line    *gapLine // a gap or restart line (sticky); a sink_drop line grows while frames are dropped next to it
}

// chunkOverhead is what a queued chunk costs besides its buffer: the
// struct and its slot in the queue.
const chunkOverhead = int(unsafe.Sizeof(chunk{})) + 8

// cost is the memory a queued chunk holds: its whole buffer (a pooled
// buffer is 4 KiB whatever it carries) and the chunk itself. Counting
// len(data) instead let frames that render to nothing (count 0) fill
// memory without ever making the queue full.
func (c *chunk) cost() int { return cap(c.data) + chunkOverhead }

// maxLines bounds the gap and restart lines queued at once: they are never
// dropped, so a broken server that announces a gap per message must not
// grow the queue without bound. Beyond it lines are counted as lost.
const maxLines = 4096

// queue is the bounded buffer between the connection loop (the producer)
// and the writer that owns the output port (the consumer). It holds at most
// maxDur of stream, maxBytes of memory and maxEntries chunks; when full,
// push applies the policy. With marks set (--gap-lines), dropped frames
// leave a "# gap ... reason=sink_drop" line in their place, so the reader
// sees the hole where it is. All methods are safe for concurrent use.
type queue struct {
	mu         sync.Mutex
	items      []*chunk
	head       int
	dur        time.Duration
	bytes      int
	lines      int // gap and restart lines queued
	maxDur     time.Duration
	maxBytes   int
	maxEntries int
	policy     string
	marks      bool   // write sink_drop lines for dropped frames
	crlf       bool   // line ending of those lines
	linesLost  uint64 // lines not queued: more than maxLines waiting
	closed     bool
	blocked    bool // the producer is waiting for room (policy block)
	drops      incident
	ready      chan struct{} // signalled when items are added (cap 1)
	room       chan struct{} // signalled when items are removed (cap 1)
}

func newQueue(maxDur time.Duration, maxBytes, maxEntries int, policy string) *queue {
	return &queue{maxDur: maxDur, maxBytes: maxBytes, maxEntries: maxEntries, policy: policy,
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
	return q.dur+c.dur > q.maxDur || q.bytes+c.cost() > q.maxBytes || q.len() >= q.maxEntries
}

func (q *queue) len() int { return len(q.items) - q.head }

// push adds c, applying the policy when the queue is full. Under Block it
// waits for room until ctx is done (then c is counted as dropped). A gap
// or restart line is merged into the line before it when it continues it.
func (q *queue) push(ctx context.Context, c *chunk) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if c.line != nil && !q.addLine(c) {
		return
	}
	for q.full(c) && !c.sticky {
		if q.policy == DropNewest {
			q.dropNewest(c)
			return
		}
		if q.policy == Block {
			if !q.waitRoom(ctx) {
				q.dropNewest(c)
				return
			}
			continue
		}
		if !q.dropOldest() {
			break
		}
	}
	q.append(c)
}

func (q *queue) append(c *chunk) {
	q.items = append(q.items, c)
	q.dur += c.dur
	q.bytes += c.cost()
	if c.line != nil {
		q.lines++
	}
	signal(q.ready)
}

// addLine reports whether line chunk c is to be queued: not when it
// continues the line queued last (merged into it) or when too many lines
// wait (counted as lost).
func (q *queue) addLine(c *chunk) bool {
	if n := len(q.items); n > q.head {
		if last := q.items[n-1]; last.line != nil && last.line.merge(c.line) {
			q.rerender(last)
			c.release()
			return false
		}
	}
	if q.lines >= maxLines {
		q.linesLost++
		c.release()
		return false
	}
	return true
}

// rerender renders line chunk c again after its line changed.
func (q *queue) rerender(c *chunk) {
	q.bytes -= c.cost()
	c.data = c.line.appendTo(c.data[:0], q.crlf)
	q.bytes += c.cost()
}

// dropNewest drops c, which was not queued, leaving its mark at the end.
func (q *queue) dropNewest(c *chunk) {
	if q.marks && c.isFrame {
		if n := len(q.items); n > q.head && q.items[n-1].extend(c) {
			q.rerender(q.items[n-1])
		} else if q.lines < maxLines {
			q.append(newMark(c, q.crlf))
		} else {
			q.linesLost++
		}
	}
	q.drop(c)
}

// dropOldest removes the oldest chunk that is not sticky; false if none.
// The sticky chunks before it (a csv header, gap lines) keep their order;
// with marks, the dropped frame's range joins the sink_drop line just
// before it, or a new one takes its place. The cost does not grow with the
// queue.
func (q *queue) dropOldest() bool {
	for i := q.head; i < len(q.items); i++ {
		c := q.items[i]
		if c.sticky {
			continue
		}
		q.dur -= c.dur
		q.bytes -= c.cost()
		switch {
		case q.marks && i > q.head && q.items[i-1].extend(c):
			q.rerender(q.items[i-1])
			q.removeAt(i)
		case q.marks && q.lines < maxLines:
			m := newMark(c, q.crlf)
			q.items[i] = m
			q.bytes += m.cost()
			q.lines++
		default:
			if q.marks {
				q.linesLost++
			}
			q.removeAt(i)
		}
		q.drop(c)
		return true
	}
	return false
}

// removeAt removes item i: the sticky chunks before it move up one place.
func (q *queue) removeAt(i int) {
	copy(q.items[q.head+1:i+1], q.items[q.head:i])
	q.items[q.head] = nil
	q.head++
	q.compact()
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
// the port (n bytes did) as dropped. With marks, the lines they held and
// sink_drop lines for their frames go back to the front of the queue, so
// the reader of a port that comes back learns what it missed.
func (q *queue) undelivered(meta []sent, n int) {
	q.mu.Lock()
	defer q.mu.Unlock()
	now := time.Now()
	var back []*chunk
	for i := range meta {
		m := &meta[i]
		if m.end <= n {
			continue
		}
		if m.c.isFrame {
			q.drops.add(&m.c, now)
		}
		if !q.marks {
			continue
		}
		if k := len(back); m.c.isFrame && k > 0 && back[k-1].extend(&m.c) {
			back[k-1].data = back[k-1].line.appendTo(back[k-1].data[:0], q.crlf)
		} else if m.c.isFrame {
			back = append(back, newMark(&m.c, q.crlf))
		} else if m.c.line != nil {
			back = append(back, lineChunk(m.c.line, q.crlf))
		}
	}
	q.pushFront(back)
}

// pushFront puts chunks back at the head of the queue, in order.
func (q *queue) pushFront(cs []*chunk) {
	if len(cs) == 0 {
		return
	}
	rest := append([]*chunk(nil), q.items[q.head:]...)
	q.items = append(append(q.items[:0], cs...), rest...)
	q.head = 0
	for _, c := range cs {
		q.bytes += c.cost()
		q.lines++
	}
	signal(q.ready)
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
		q.bytes -= c.cost()
		if c.line != nil {
			q.lines--
		}
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
	q.dur, q.bytes, q.lines = 0, 0, 0
}

// close makes pop return false once the queue is empty.
func (q *queue) close() {
	q.mu.Lock()
	q.closed = true
	q.mu.Unlock()
	signal(q.ready)
}

// level is the queued duration and memory.
func (q *queue) level() (time.Duration, int) {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.dur, q.bytes
}

// entries is the number of chunks queued.
func (q *queue) entries() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.len()
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

// lostLines is the number of gap and restart lines not written because
// too many were waiting.
func (q *queue) lostLines() uint64 {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.linesLost
}

// incidentReport returns a drop incident to log: started reports a new
// incident once; ended returns the finished one after quiet of no drops.
func (q *queue) incidentReport(now time.Time, quiet time.Duration, final bool) (started, ended *dropReport) {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.drops.report(now, quiet, final)
}
