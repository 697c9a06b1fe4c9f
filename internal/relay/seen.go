package relay

import "github.com/wsbridge/wsbridge/internal/frame"

// seen remembers which of the last frame.DuplicateWindow sequence numbers
// of the current count were published, so that a frame behind the count
// is told apart exactly: a duplicate (that seq was published already) or
// late (its gap had been reported before it came). Bit s%window stands
// for the one seq in next-window..next-1 with that remainder.
type seen struct {
	bits [frame.DuplicateWindow / 64]uint64
}

func seenBit(s uint32) (int, uint64) {
	i := s % frame.DuplicateWindow
	return int(i / 64), 1 << (i % 64)
}

func (w *seen) has(s uint32) bool {
	i, m := seenBit(s)
	return w.bits[i]&m != 0
}

func (w *seen) set(s uint32) {
	i, m := seenBit(s)
	w.bits[i] |= m
}

// clear forgets from..to (inclusive): seqs that were never published.
func (w *seen) clear(from, to uint32) {
	if to-from >= frame.DuplicateWindow-1 {
		w.reset()
		return
	}
	for s := from; ; s++ {
		i, m := seenBit(s)
		w.bits[i] &^= m
		if s == to {
			return
		}
	}
}

func (w *seen) reset() { w.bits = [len(w.bits)]uint64{} }
