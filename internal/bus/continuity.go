package bus

import (
	"github.com/wsbridge/wsbridge/internal/wsproto"
)

// continuity follows a reader's position in a channel's count and turns
// whatever it is handed into an exact account: events it already has are
// dropped, and what is missing before an event (trimmed from the stream,
// skipped by a consumer that restarted at the first message still held)
// becomes a history gap or a restart, named in device seqs, never in
// stream sequences. The zero value accepts any first event.
type continuity struct {
	epoch      wsproto.Epoch
	first      uint32 // first seq of epoch, once firstKnown
	next       uint32 // the first seq not yet accounted for
	known      bool   // epoch and next are set
	firstKnown bool
}

// expect makes the reader want (epoch, seq) next, as a resume does.
// The epoch's first seq is learnt from its events.
func (c *continuity) expect(epoch wsproto.Epoch, seq uint32) {
	c.epoch, c.next, c.known, c.firstKnown = epoch, seq, true, false
}

// admit appends to out what the reader must apply for ev: nothing (it
// has it), or ev, preceded by a restart and a gap when the stream did not
// say what came between. ev's Raw is shared, not copied.
//
// Events of an epoch whose count has not begun (not Started: a status or
// device text before the epoch's first frame) pass as they are: there is
// nothing to account for yet, and the restart, if the stream lacks it, is
// made before the epoch's first frame, as serve announces it to its own
// clients.
func (c *continuity) admit(ev *Event, out []Event) []Event {
	switch {
	case !ev.Started:
		return append(out, *ev)
	case !c.known:
		c.take(ev)
		return append(out, *ev)
	case ev.Kind == KindRestart:
		if ev.Epoch == c.epoch {
			return out // already in this count
		}
		c.take(ev)
		return append(out, *ev)
	case ev.Epoch != c.epoch:
		out = append(out, Event{Kind: KindRestart, Epoch: ev.Epoch, Started: true, First: ev.First, Seq: ev.First,
			Reason: "the count started over: a new serve process, or a device restart whose restart message the stream no longer holds"})
		c.epoch, c.first, c.firstKnown, c.next = ev.Epoch, ev.First, true, ev.First
	case !c.firstKnown: // a resume's expect did not know where the epoch began
		c.first, c.firstKnown = ev.First, true
		if c.key(c.next) >= 1<<31 { // asked for seqs before the epoch began: there are none
			c.next = c.first
		}
	}
	at := coverStart(ev)
	if ev.Kind == KindFrame || ev.Kind == KindGap {
		if c.behind(ev.Seq) {
			return out // the reader has it
		}
		if ev.Kind == KindGap && c.behind(at) { // overlaps what the reader has: keep the part it lacks
			g := *ev
			g.From, at = c.next, c.next
			ev = &g
		}
	}
	if c.key(at) > c.key(c.next) {
		out = append(out, historyGapEvent(ev, c.next, at-1))
	}
	out = append(out, *ev)
	if n := nextAfter(ev); c.key(n) > c.key(c.next) {
		c.next = n
	}
	return out
}

// take starts following ev's epoch at ev (a Started event).
func (c *continuity) take(ev *Event) {
	c.epoch, c.first, c.next, c.known, c.firstKnown = ev.Epoch, ev.First, nextAfter(ev), true, true
}

func (c *continuity) key(seq uint32) uint32 { return seq - c.first }

// behind reports whether seq is before the first seq not accounted for.
func (c *continuity) behind(seq uint32) bool { return c.key(seq) < c.key(c.next) }

func historyGapEvent(at *Event, from, to uint32) Event {
	return Event{Kind: KindGap, Epoch: at.Epoch, Started: true, First: at.First, From: from, Seq: to, Reason: wsproto.GapHistory}
}
