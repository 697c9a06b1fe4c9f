package relay

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wsbridge/wsbridge/internal/frame"
	"github.com/wsbridge/wsbridge/internal/testsupport"
	"github.com/wsbridge/wsbridge/internal/wsproto"
)

// heldCost recomputes what the ring holds, entry by entry, renderings
// included: what --history-bytes must bound.
func heldCost(s *Channel) (cost int64, frames int) {
	h := s.hub
	h.mu.RLock()
	defer h.mu.RUnlock()
	for p := h.ring.base; p < h.ring.head; p++ {
		e := h.ring.at(p)
		cost += e.cost + e.extra.Load()
		if e.kind == kindFrame {
			frames++
		}
	}
	return cost + 8*int64(len(h.ring.buf)), frames
}

// Frames without samples (28-byte packets, zero duration) are kept and
// counted at their real cost: the entry around the packet, not only the
// packet's bytes (issue 13.3: 4 million of them took serve to 218 MB with
// --history-bytes 16MiB).
func TestHistoryCountsEntryCost(t *testing.T) {
	const limit = 1 << 16
	s, base := testServer(t, Options{HistoryBytes: limit})
	for seq := uint32(0); seq < 20000; seq++ {
		s.Packet(counterPacket(t, seq, 0, 1, frame.I16))
	}
	cost, frames := heldCost(s)
	in := s.Info()
	if cost > limit || int64(in.Counters["history_bytes"]) != cost {
		t.Fatalf("history holds %d bytes (metric %v), cap %d", cost, in.Counters["history_bytes"], limit)
	}
	if per := entrySize + 28; int64(frames)*per > limit || frames < limit/int(2*per) {
		t.Fatalf("%d count-0 frames held in %d bytes: want about %d at %d bytes each", frames, limit, limit/per, per)
	}
	// They are data frames like any other: numbered, delivered, resumable.
	c := testsupport.Dial(t, wsURL(base, "format=json&since=19990"), nil)
	if h := testsupport.ExpectHello(t, c); h.StartSeq != 19990 || h.History.Frames != frames {
		t.Fatalf("hello = %+v", h)
	}
	for seq := uint32(19990); seq < 20000; seq++ {
		m := expectMsg(t, c, "frame")
		if m.seq != seq || !strings.Contains(string(m.raw), `"samples":[[]]`) {
			t.Fatalf("frame %d: %s", seq, m.raw)
		}
	}
}

// JSON and CSV renderings count against --history-bytes while their
// frame is held (issue 13.3: JSON and CSV clients took serve to 624 MB
// with --history-bytes 64MiB): a client replaying the whole history in
// both formats makes the ring shed its oldest frames instead of growing.
func TestHistoryCountsRenderings(t *testing.T) {
	const limit = 1 << 20
	s, base := testServer(t, Options{HistoryBytes: limit})
	publish(t, s, 0, 4000) // 104-byte packets: the cap, not the 30 s, bounds the ring
	before, held := heldCost(s)
	first := uint32(4000 - held)
	if before > limit || held < 1000 {
		t.Fatalf("before rendering: %d frames in %d bytes, cap %d", held, before, limit)
	}
	for _, fm := range []string{"json", "csv"} {
		c := testsupport.Dial(t, wsURL(base, "format="+fm+"&since="+strconv.FormatUint(uint64(first), 10)), nil)
		testsupport.ExpectHello(t, c)
		for seq := first; seq < 4000; seq++ {
			m, err := read(t, c, 5*time.Second)
			if err != nil {
				t.Fatalf("%s: frame %d: %v", fm, seq, err)
			}
			if m.typ == wsproto.TypeGap { // shed while this client read: fine, as long as it says so
				seq = m.gap.To
				continue
			}
			checkFrame(t, m, seq)
		}
	}
	after, kept := heldCost(s)
	if after > limit || kept >= held {
		t.Fatalf("after rendering: %d frames in %d bytes (before: %d in %d), cap %d: renderings must count", kept, after, held, before, limit)
	}
	if got := int64(s.Info().Counters["history_bytes"]); got != after {
		t.Fatalf("history_bytes = %d, recomputed %d", got, after)
	}
	t.Logf("frames held: %d before rendering, %d with json and csv renderings (cap %d bytes)", held, kept, limit)
}

// A frame without samples has no CSV lines: CSV clients get nothing for
// it (an empty message would be a blank read), the frames around it
// arrive whole.
func TestCSVSkipsEmptyFrame(t *testing.T) {
	s, base := testServer(t, Options{})
	c := testsupport.Dial(t, wsURL(base, "format=csv"), nil)
	testsupport.ExpectHello(t, c)
	publish(t, s, 0, 1)
	s.Packet(counterPacket(t, 1, 0, tChans, frame.I16))
	publish(t, s, 2, 3)
	expectFrames(t, c, 0, 1)
	m := expectMsg(t, c, "csv")
	checkFrame(t, m, 2)
}
