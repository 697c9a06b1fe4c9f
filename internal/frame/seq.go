package frame

// SeqKind classifies one observed sequence number.
type SeqKind uint8

// Sequence observations.
const (
	SeqFirst     SeqKind = iota // the first number seen
	SeqInOrder                  // exactly the expected number
	SeqGap                      // ahead of the expected number: From..To were lost
	SeqDuplicate                // already seen (a duplicate or a late, reordered frame)
	SeqRestart                  // the sender started counting again (0, or a jump far back)
)

func (k SeqKind) String() string {
	return [...]string{"first", "in_order", "gap", "duplicate", "restart"}[k]
}

// DuplicateWindow is how far behind the expected number a sequence number
// may be and still count as a duplicate; anything further back, and seq 0
// when anything else was expected, is a restart.
const DuplicateWindow = 1024

// SeqEvent is the classification of one sequence number. For SeqGap, From
// and To are the inclusive range of missing numbers and Lost their count.
type SeqEvent struct {
	Kind     SeqKind
	Seq      uint32
	From, To uint32
	Lost     uint32
}

// SeqTracker follows a stream of u32 sequence numbers that wrap at 2^32.
// The zero value expects any first number. It is not safe for concurrent use.
type SeqTracker struct {
	next    uint32
	started bool
}

// Observe classifies seq and, unless it is a duplicate, advances the
// expected number to seq+1.
func (t *SeqTracker) Observe(seq uint32) SeqEvent {
	ev := SeqEvent{Kind: SeqInOrder, Seq: seq}
	switch {
	case !t.started:
		ev.Kind, t.started = SeqFirst, true
	case seq == t.next:
	case seq == 0 || SeqBefore(seq, t.next) && t.next-seq > DuplicateWindow:
		ev.Kind = SeqRestart
	case SeqBefore(seq, t.next):
		ev.Kind = SeqDuplicate
		return ev
	default:
		ev.Kind, ev.From, ev.To, ev.Lost = SeqGap, t.next, seq-1, seq-t.next
	}
	t.next = seq + 1
	return ev
}

// SeqBefore reports whether sequence number a comes before b: b - a,
// modulo 2^32, is 1 to 2^31. It is the one comparison every stage uses
// for u32 sequence numbers that wrap (exactly 2^31 apart, each counts as
// before the other).
func SeqBefore(a, b uint32) bool { return int32(a-b) < 0 }

// Announced takes a gap the sender announces (frames from..to will never
// come; a receiver's "gap" message) and returns what of it is news. Frames
// already accounted for (seen, or counted as lost when a later number
// revealed them) are not counted again: missed is the run between the
// expected number and from that nobody announced (Kind SeqGap; SeqInOrder
// if none), and gap the announced range from the expected number on
// (Kind SeqGap; SeqDuplicate, and nothing changes, when all of it was
// accounted for). The tracker then expects to+1.
func (t *SeqTracker) Announced(from, to uint32) (missed, gap SeqEvent) {
	missed.Kind = SeqInOrder
	if t.started {
		if SeqBefore(to, t.next) {
			return missed, SeqEvent{Kind: SeqDuplicate, From: from, To: to}
		}
		if SeqBefore(t.next, from) {
			missed = SeqEvent{Kind: SeqGap, From: t.next, To: from - 1, Lost: from - t.next}
		}
		if SeqBefore(from, t.next) {
			from = t.next
		}
	}
	t.Expect(to + 1)
	return missed, SeqEvent{Kind: SeqGap, From: from, To: to, Lost: to - from + 1}
}

// Next is the sequence number expected next, and whether any was seen.
func (t *SeqTracker) Next() (uint32, bool) { return t.next, t.started }

// Expect makes the tracker expect seq next, as after resuming a stream.
func (t *SeqTracker) Expect(seq uint32) { t.next, t.started = seq, true }
