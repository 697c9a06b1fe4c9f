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
	epoch wsproto.Epoch
	first uint32 // first seq of epoch
	next  uint32 // the first seq not yet accounted for
	known bool
}

// expect makes the reader want (epoch, seq) next, as a resume does.
// first is unknown until an event of that epoch arrives.
func (c *continuity) expect(epoch wsproto.Epoch, seq uint32) {
	c.epoch, c.next, c.first, c.known = epoch, seq, seq, true
}

// admit appends to out what the reader must apply for ev: nothing (it
// has it), or ev, preceded by a restart and a gap when the stream did not
// say what came between. ev's Raw is shared, not copied.
func (c *continuity) admit(ev *Event, out []Event) []Event {
	switch {
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
		out = append(out, Event{Kind: KindRestart, Epoch: ev.Epoch, First: ev.First, Seq: ev.First,
			Reason: "the count started over (a new serve process or a device restart) in messages the stream no longer holds"})
		c.epoch, c.next = ev.Epoch, ev.First
	}
	if c.first != ev.First { // learnt from the epoch's events (a resume's expect did not know it)
		c.first = ev.First
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

// take starts following ev's epoch at ev.
func (c *continuity) take(ev *Event) {
	c.epoch, c.first, c.next, c.known = ev.Epoch, ev.First, nextAfter(ev), true
}

func (c *continuity) key(seq uint32) uint32 { return seq - c.first }

// behind reports whether seq is before the first seq not accounted for.
func (c *continuity) behind(seq uint32) bool { return c.key(seq) < c.key(c.next) }

func historyGapEvent(at *Event, from, to uint32) Event {
	return Event{Kind: KindGap, Epoch: at.Epoch, First: at.First, From: from, Seq: to, Reason: wsproto.GapHistory}
}
