package relay

import (
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/wsbridge/wsbridge/internal/frame"
)

// An evicted frame lets go of its JSON and CSV renderings: its entry
// shares a slab block with frames the ring still holds, which keep the
// block, and would keep the renderings, alive past --history-bytes.
func TestEvictionDropsRenderings(t *testing.T) {
	h := newHub("t", time.Hour, 64<<10, zerolog.Nop(), &channelStats{})
	var es []*entry
	for seq := uint32(0); seq < 3*slabEntries; seq++ {
		h.publishFrame(counterPacket(t, seq, tCount, tChans, frame.I16))
		_, head := h.bounds()
		h.mu.RLock()
		e := h.ring.at(head - 1)
		h.mu.RUnlock()
		h.encoded(e, FormatJSON)
		h.encoded(e, FormatCSV)
		es = append(es, e)
	}
	base, _ := h.bounds()
	if base == 0 || base >= uint64(len(es)) {
		t.Fatalf("ring base %d after %d frames: want some evicted and some held", base, len(es))
	}
	for i, e := range es {
		evicted := uint64(i) < base
		if got := e.json.Load() != nil && e.csv.Load() != nil; got == evicted {
			t.Fatalf("frame %d (evicted %v): renderings held %v", i, evicted, got)
		}
	}
}
