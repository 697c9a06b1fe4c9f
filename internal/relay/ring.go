package relay

// ring is the history: a growable circular buffer of entries addressed by
// position, a number that increases by one per entry forever. It holds
// positions base..head-1. It is not safe for concurrent use; the hub's
// mutex guards it.
type ring struct {
	buf   []*entry // len is a power of two
	base  uint64   // position of the oldest entry held
	head  uint64   // position the next entry will get
	bytes int64    // raw bytes held
	dur   int64    // sample time of the frames held, ns
}

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
	r.bytes += int64(len(e.raw))
	r.dur += e.dur
}

func (r *ring) grow() {
	n := max(2*len(r.buf), 64)
	buf := make([]*entry, n)
	for p := r.base; p < r.head; p++ {
		buf[p&uint64(n-1)] = r.at(p)
	}
	r.buf = buf
}

// pop drops the oldest entry.
func (r *ring) pop() {
	i := r.base & uint64(len(r.buf)-1)
	e := r.buf[i]
	r.buf[i] = nil
	r.base++
	r.bytes -= int64(len(e.raw))
	r.dur -= e.dur
}
