package relay

// ring is the history: a growable circular buffer of entries addressed by
// position, a number that increases by one per entry forever. It holds
// positions base..head-1. It is not safe for concurrent use; the hub's
// mutex guards it.
type ring struct {
	buf   []*entry // len is a power of two
	base  uint64   // position of the oldest entry held
	head  uint64   // position the next entry will get
	bytes int64    // what the entries held cost (entry.cost), bytes
	dur   int64    // sample time of the frames held, ns
}

// size is the memory the ring holds without the entries' renderings: the
// entries and the slots of the buffer.
func (r *ring) size() int64 { return r.bytes + 8*int64(len(r.buf)) }

func (r *ring) len() int { return int(r.head - r.base) }

// at returns the entry at position p, which must be in base..head-1.
func (r *ring) at(p uint64) *entry { return r.buf[p&uint64(len(r.buf)-1)] }

// push appends e at position head.
func (r *ring) push(e *entry) {
	if r.len() == len(r.buf) {
		r.grow()
	}
	r.buf[r.head&uint64(len(r.buf)-1)] = e
	r.head++
	r.bytes += e.cost
	r.dur += e.dur
}

// minRing is the smallest buffer the ring keeps.
const minRing = 64

func (r *ring) grow() { r.resize(max(2*len(r.buf), minRing)) }

// resize moves the entries into a buffer of n slots (a power of two, at
// least len).
func (r *ring) resize(n int) {
	buf := make([]*entry, n)
	for p := r.base; p < r.head; p++ {
		buf[p&uint64(n-1)] = r.at(p)
	}
	r.buf = buf
}

// pop drops the oldest entry and returns it. A buffer left less than a
// quarter full is halved, so that a burst of tiny entries does not keep
// its slots for ever.
func (r *ring) pop() *entry {
	i := r.base & uint64(len(r.buf)-1)
	e := r.buf[i]
	r.buf[i] = nil
	r.base++
	r.bytes -= e.cost
	r.dur -= e.dur
	if len(r.buf) > minRing && r.len() < len(r.buf)/4 {
		r.resize(len(r.buf) / 2)
	}
	return e
}
