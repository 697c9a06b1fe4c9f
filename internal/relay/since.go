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
	epoch    wsproto.Epoch
	announce string       // non-empty: send a restart status with this reason before the first frame
	pre      []any        // messages sent after hello, before the stream
	pending  *batch       // envelope clients: the batch being filled when a live client connected
	backfill *wsproto.Gap // mirrors: frames to read from the bus before the ring (mirror.go)
	snap     snapshot
}

// subscribe computes a new client's start and the device snapshot for its
// hello, atomically with respect to publishing. r is nil for live only.
//
// The resume table (docs/serve.md, "Resuming"): a resume in the current
// epoch continues exactly, waiting for a seq at most DuplicateWindow
// ahead; a resume in an earlier epoch whose frames the ring still holds
// continues exactly in it, and reaches the restart into the next epoch in
// order; a resume from any other epoch is answered at once with a restart
// status and a replay of the current epoch; a resume without an epoch
// (clients from before epochs) is taken as the current epoch when its
// seq is not ahead of the newest frame, and as another epoch when it is.
//
// level is the client's envelope level, 0 for full rate.
func (h *hub) subscribe(r *resume, level uint32) start {
	h.mu.Lock()
	defer h.mu.Unlock()
	st := start{pos: h.ring.head, live: h.ring.head, epoch: h.epoch, snap: h.snapshotLocked()}
	next, started := h.seq.Next()
	st.seq = next
	switch {
	case r == nil:
	case r.epoch == h.epoch:
		h.resumeLocked(&st, r.since, next, started)
	case r.epoch == "" && started && !frame.SeqBefore(next, r.since): // at or behind the newest frame
		h.resumeLocked(&st, r.since, next, started)
	case r.epoch == "":
		h.restartLocked(&st, fmt.Sprintf("since=%d (without epoch) is ahead of the newest frame: the count started over since this client last read (serve or the device restarted); replaying the current epoch %s", r.since, h.epoch))
	case h.resumeEarlierLocked(&st, r):
		// the tail of an earlier epoch is still held: it comes first,
		// then the restart status and the current epoch, in order
	default:
		h.restartLocked(&st, fmt.Sprintf("epoch %s is over (serve or the device restarted): the count started over; replaying the current epoch %s", r.epoch, h.epoch))
	}
	if level > 0 {
		h.envelopeStartLocked(&st, r)
	}
	return st
}

// resumeLocked positions st at seq s of the current epoch, or explains
// with a gap or status message why it cannot.
func (h *hub) resumeLocked(st *start, s, next uint32, started bool) {
	if !started { // nothing sent in this epoch yet: s is where the client expects it to begin
		st.seq = s
		return
	}
	if s == next {
		return
	}
	low, lowPos, ok := h.lowestLocked()
	switch {
	case frame.SeqBefore(next, s) && s-next <= frame.DuplicateWindow:
		// Slightly ahead in the same epoch: wait for s, skipping
		// anything before it.
		st.seq, st.floor, st.hasFloor = s, s, true
	case frame.SeqBefore(next, s): // far ahead of anything this epoch sent
		h.restartLocked(st, fmt.Sprintf("since=%d is ahead of the newest frame %d by more than %d: replaying the current epoch %s", s, next-1, frame.DuplicateWindow, h.epoch))
	case !ok:
		st.pre = append(st.pre, historyGap(s, next-1, h.epoch))
	case frame.SeqBefore(s, low): // older than the ring holds
		st.pre = append(st.pre, historyGap(s, low-1, h.epoch))
		st.pos, st.seq = lowPos, low
	default:
		st.pos, st.seq, st.floor, st.hasFloor = h.searchLocked(lowPos, low, s), s, s, true
	}
}

// restartLocked answers a resume from another count: at once a restart
// status naming the current epoch and its first seq, a history gap if
// the epoch's first frames are no longer held, then a replay from the
// oldest frame of the epoch still held. Before the epoch's first frame
// the status goes out just ahead of it (hello already names the epoch).
func (h *hub) restartLocked(st *start, reason string) {
	next, started := h.seq.Next()
	if !started {
		st.announce = reason
		return
	}
	st.pre = append(st.pre, wsproto.Status{Type: wsproto.TypeStatus, State: wsproto.StateRestart,
		Reason: reason, Seq: h.first, Epoch: h.epoch})
	low, lowPos, ok := h.lowestLocked()
	if !ok {
		low, lowPos = next, h.ring.head
	}
	if low != h.first {
		st.pre = append(st.pre, historyGap(h.first, low-1, h.epoch))
	}
	st.pos, st.seq, st.floor, st.hasFloor = lowPos, low, 0, false
}

func historyGap(from, to uint32, epoch wsproto.Epoch) wsproto.Gap {
	return wsproto.Gap{Type: wsproto.TypeGap, From: from, To: to, Count: uint64(to-from) + 1, Reason: wsproto.GapHistory, Epoch: epoch}
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
	return h.searchBetweenLocked(lo, h.ring.head, low, s)
}

// resumeEarlierLocked positions st at seq r.since of an earlier epoch when
// the ring still holds frames of it (the device restarted while the
// client was away): the client gets that epoch's tail, then the restart
// status that ended it, then the current epoch, all in ring order, so
// nothing it could still have is lost. Hello names the epoch the
// connection starts in. It reports false when the ring holds nothing of
// r.epoch or r.since is beyond what that epoch sent.
func (h *hub) resumeEarlierLocked(st *start, r *resume) bool {
	low, lowPos, last, end, ok := h.epochSpanLocked(r.epoch)
	if !ok || frame.SeqBefore(last+1, r.since) {
		return false
	}
	st.epoch, st.snap.Epoch = r.epoch, r.epoch
	switch s := r.since; {
	case frame.SeqBefore(s, low): // older than the ring holds of that epoch
		st.pre = append(st.pre, historyGap(s, low-1, r.epoch))
		st.pos, st.seq = lowPos, low
	default:
		st.pos, st.seq, st.floor, st.hasFloor = h.searchBetweenLocked(lowPos, end, low, s), s, s, true
	}
	return true
}

// epochSpanLocked finds what the ring holds of an earlier epoch: its
// oldest covered seq and position (a frame, or a device gap's From), its
// newest covered seq, and the position after its last entry. Epochs are
// contiguous in the ring and end before the current one begins.
func (h *hub) epochSpanLocked(epoch wsproto.Epoch) (low uint32, lowPos uint64, last uint32, end uint64, ok bool) {
	for p := h.ring.base; p < h.ring.head && p < h.epochPos; p++ {
		e := h.ring.at(p)
		if e.epoch != epoch {
			if ok {
				break
			}
			continue
		}
		switch e.kind {
		case kindFrame:
			if !ok {
				low, lowPos, ok = e.key, p, true
			}
			last = e.key
		case kindGap:
			if !ok {
				low, lowPos, ok = e.gap.From, p, true
			}
			last = e.gap.To
		}
		end = p + 1
	}
	return low, lowPos, last, end, ok
}

// searchBetweenLocked is searchLocked bounded to positions lo..hi-1 (the
// keys of one epoch).
func (h *hub) searchBetweenLocked(lo, hi uint64, low, s uint32) uint64 {
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
