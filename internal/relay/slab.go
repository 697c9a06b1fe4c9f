package relay

import (
	"sync"

	"github.com/wsbridge/wsbridge/internal/frame"
)

// Sizes of a slab's blocks.
const (
	slabEntries = 64       // entries per block
	slabBytes   = 32 << 10 // packet bytes per block
	slabLargest = slabBytes / 8
)

// slab hands out the entries and packet copies of a channel's frames from
// blocks, instead of two allocations per frame: at a few thousand frames a
// second the allocator was a tenth of publishing a frame. The ring holds
// and evicts frames in order, so a block is free again soon after its last
// frame leaves the history; a client still sending an old frame keeps its
// block a little longer. Frames over slabLargest get their own copy.
//
// Its methods are safe for concurrent use (the origin's source and a
// mirror's replay may publish at once; the lock is uncontended otherwise).
type slab struct {
	mu      sync.Mutex
	entries []entry // what is left of the current block
	bytes   []byte
}

// frameEntry copies p (valid only during the caller's call) into an entry;
// the hub sets its epoch once the seq tracker has seen it.
func (s *slab) frameEntry(p *frame.Packet) *entry {
	raw, e := s.take(len(p.Raw))
	copy(raw, p.Raw)
	return fillFrameEntry(e, p, raw)
}

// take returns room for a packet of n bytes and an entry, both zeroed.
func (s *slab) take(n int) ([]byte, *entry) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.entries) == 0 {
		s.entries = make([]entry, slabEntries)
	}
	e := &s.entries[0]
	s.entries = s.entries[1:]
	if n > slabLargest {
		return make([]byte, n), e
	}
	if len(s.bytes) < n {
		s.bytes = make([]byte, slabBytes)
	}
	raw := s.bytes[:n:n] // capped: nothing appended to one copy spills into the next
	s.bytes = s.bytes[n:]
	return raw, e
}
