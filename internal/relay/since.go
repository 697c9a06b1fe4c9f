package relay

import (
	"fmt"

	"github.com/wsbridge/wsbridge/internal/frame"

	"github.com/wsbridge/wsbridge/internal/wsproto"
)

// start is where a new client begins reading the ring.
type start struct {
	pos      uint64 // first ring position to send
	live     uint64 // positions before it are replay: live-only messages there are skipped
	seq      uint32 // the first seq this client will receive (Hello.StartSeq)
	floor    uint32 // with hasFloor: gaps are clipped to begin at floor (the ?since value)
	hasFloor bool
	epoch    uint32
	pre      []any // messages sent after hello, before the stream
	snap     snapshot
}

// subscribe computes a new client's start and the device snapshot for its
// hello, atomically with respect to publishing. since is nil for live only.
func (h *hub) subscribe(since *uint32) start {
	h.mu.Lock()
	defer h.mu.Unlock()
	st := start{pos: h.ring.head, live: h.ring.head, epoch: h.epoch, snap: h.snapshotLocked()}
	next, started := h.seq.Next()
	st.seq = next
	if since == nil {
		return st
	}
	if !started {
		st.seq = *since
		return st
	}
	h.resumeLocked(&st, *since, next)
	return st
}

// resumeLocked positions st at seq s of the current epoch, or explains
// with a gap or status message why it cannot.
func (h *hub) resumeLocked(st *start, s, next uint32) {
	d := next - s
	if d == 0 {
		return
	}
	low, lowPos, ok := h.lowestLocked()
	switch {
	case d >= 1<<31 && h.epoch == 0 && s-next <= frame.DuplicateWindow:
		// Slightly ahead and no restart seen (e.g. this serve just
		// started): wait for s, skipping anything before it.
		st.seq, st.floor, st.hasFloor = s, s, true
	case d >= 1<<31: // s is ahead of anything sent: a client from before a restart
		st.pre = append(st.pre, wsproto.Status{Type: wsproto.TypeStatus, State: wsproto.StateRestart,
			Reason: fmt.Sprintf("since=%d is ahead of the newest frame %d: the device restarted its sequence numbers since this client last read; replaying from the restart", s, next-1),
			Seq:    h.first})
		if !ok {
			low, lowPos = next, h.ring.head
		}
		if low != h.first {
			st.pre = append(st.pre, historyGap(h.first, low-1))
		}
		st.pos, st.seq = lowPos, h.first
	case !ok:
		st.pre = append(st.pre, historyGap(s, next-1))
	case d > next-low: // older than the ring holds
		st.pre = append(st.pre, historyGap(s, low-1))
		st.pos, st.seq = lowPos, low
	default:
		st.pos, st.seq, st.floor, st.hasFloor = h.searchLocked(lowPos, low, s), s, s, true
	}
}

func historyGap(from, to uint32) wsproto.Gap {
	return wsproto.Gap{Type: wsproto.TypeGap, From: from, To: to, Count: uint64(to-from) + 1, Reason: wsproto.GapHistory}
}

// lowestLocked finds the oldest seq the ring covers in the current epoch:
// the first frame or device gap at or after the epoch's start.
func (h *hub) lowestLocked() (seq uint32, pos uint64, ok bool) {
	for p := max(h.ring.base, h.epochPos); p < h.ring.head; p++ {
		switch e := h.ring.at(p); e.kind {
		case kindFrame:
			return e.key, p, true
		case kindGap:
			return e.gap.From, p, true
		}
	}
	return 0, 0, false
}

// searchLocked returns the first position from lo whose entry covers seq s
// or later. Entry keys increase from lo on (modulo 2^32, relative to low).
func (h *hub) searchLocked(lo uint64, low, s uint32) uint64 {
	hi := h.ring.head
	want := s - low
	for lo < hi {
		mid := lo + (hi-lo)/2
		if h.ring.at(mid).key-low < want {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	return lo
}
