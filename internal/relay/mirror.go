package relay

import (
	"cmp"
	"context"
	"encoding/json"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wsbridge/wsbridge/internal/frame"
	"github.com/wsbridge/wsbridge/internal/source"
	"github.com/wsbridge/wsbridge/internal/wsproto"
)

// This file is the channel's side of the bus (package bus): reading a
// channel's classified history out as events, for the publisher, and
// mirroring a channel from events, for a remote channel served here.

// ReadEvents copies the channel's history from ring position pos on into
// dst as events, for a reader that keeps its own position (the bus
// publisher). It returns how many, and the position of dst[0], which is
// past pos when pos..first-1 have already been evicted. With nothing at
// or after pos yet, n is 0 and wait is closed when something arrives.
// Raw slices stay valid after the call (entries are immutable). It never
// holds off the producer for longer than a client's read does.
func (c *Channel) ReadEvents(pos uint64, dst []source.Event) (n int, first uint64, wait <-chan struct{}) {
	var buf [64]*entry
	for {
		k, behind, base, w := c.hub.fetch(pos, buf[:min(len(dst), len(buf))], false)
		if behind != nil {
			pos = base
			continue
		}
		for i := range k {
			dst[i] = buf[i].event()
		}
		clear(buf[:k])
		return k, pos, w
	}
}

// event is what entry e means as an event.
func (e *entry) event() source.Event {
	ev := source.Event{Epoch: e.epoch, Started: e.firstOK, First: e.first, Seq: e.key, Raw: e.raw}
	switch e.kind {
	case kindFrame:
		ev.Kind = source.EventFrame
	case kindGap:
		ev.Kind, ev.From, ev.Reason = source.EventGap, e.gap.From, e.gap.Reason
	case kindStatus:
		var st wsproto.Status
		_ = json.Unmarshal(e.raw, &st) // the hub encoded it
		ev.Reason = st.Reason
		switch st.State {
		case wsproto.StateRestart:
			ev.Kind, ev.Started, ev.First, ev.Seq = source.EventRestart, true, st.Seq, st.Seq
		case wsproto.StateUp:
			ev.Kind = source.EventUp
		default:
			ev.Kind = source.EventDown
		}
	default:
		var m struct {
			Type string `json:"type"`
		}
		_ = json.Unmarshal(e.raw, &m)
		ev.Kind = map[string]source.EventKind{wsproto.TypeInfo: source.EventInfo, wsproto.TypeReply: source.EventReply}[m.Type]
		if ev.Kind == 0 {
			ev.Kind = source.EventLog
		}
	}
	return ev
}

// Apply appends an event to a mirror channel (ChannelOptions.Mirror) as
// its origin classified it: the origin's epoch, frames, gaps (device or
// history), restarts, state changes and device text, with no sequence
// classification of its own, so that the mirror's clients see what the
// origin's see. Events come from one goroutine at a time, in order; ev
// is only read during the call. A frame whose packet does not parse is
// counted and dropped (the bus carries what serve published, so this is
// a foreign message).
//
// A Started event of an epoch other than the mirror's that is not a
// restart (the mirror's first event, when it joins mid-stream) is
// preceded by a restart status naming that epoch, so clients connected
// before it learn the count they are in.
func (c *Channel) Apply(ev *source.Event) {
	if c.mirror == nil {
		return // not a mirror: its source's packets are classified here
	}
	h := c.hub
	switch ev.Kind {
	case source.EventFrame:
		var p frame.Packet
		if err := frame.Parse(&p, ev.Raw); err != nil || p.Type != frame.TypeData || p.Frame.Seq != ev.Seq {
			c.mirror.bad.Add(1)
			return
		}
		e := h.slab.frameEntry(&p)
		h.mu.Lock()
		now := time.Now()
		h.startInlineLocked(now) // caught-up clients get the frame from this goroutine, as the origin's do
		defer h.unlockInline()
		h.adoptLocked(ev)
		h.seq.Expect(ev.Seq + 1)
		h.appendFrameLocked(e, &p.Frame, now)
	case source.EventGap:
		h.mu.Lock()
		defer h.mu.Unlock()
		h.adoptLocked(ev)
		e := newReasonGapEntry(ev.From, ev.Seq, h.epoch, cmp.Or(ev.Reason, wsproto.GapDevice))
		if e.gap.Reason == wsproto.GapDevice {
			h.stats.deviceGaps.Add(1)
			h.stats.deviceGapFrames.Add(e.gap.Count)
		}
		h.seq.Expect(ev.Seq + 1)
		h.breakLocked()
		h.pushLocked(e)
	case source.EventRestart:
		h.mu.Lock()
		defer h.mu.Unlock()
		h.startEpochLocked(ev.Epoch, ev.Seq, ev.Reason)
	case source.EventUp, source.EventDown:
		state := wsproto.StateUp
		if ev.Kind == source.EventDown {
			state = wsproto.StateDown
		}
		c.mirrorState(state, ev.Reason)
	case source.EventInfo:
		var in wsproto.Info
		if json.Unmarshal(ev.Raw, &in) != nil {
			c.mirror.bad.Add(1)
			return
		}
		h.mu.Lock()
		h.device = &in.Device
		h.mu.Unlock()
		h.publishRaw(kindText, ev.Raw)
	case source.EventLog, source.EventReply:
		h.publishRaw(kindText, ev.Raw)
	}
}

// Feed tells a mirror channel whether its events are flowing from the bus.
// While they are not, its clients are told the device is down, with the
// reason; when they flow again, the origin's last known state is told (up
// if none came).
func (c *Channel) Feed(ok bool, reason string) {
	m := c.mirror
	if m == nil {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.feedOK, m.feedReason = ok, reason
	if !ok {
		m.feedWasDown = true
		c.hub.setState(wsproto.StateDown, reason)
		return
	}
	switch {
	case m.state != "":
		c.hub.setState(m.state, m.reason)
	case m.feedWasDown: // the origin's state never came (it predates what the mirror read): its events flow
		c.hub.setState(wsproto.StateUp, reason)
	}
	m.feedWasDown = false
}

// mirrorState records the origin's device state and tells clients, unless
// the bus feed is down (then they hear it when the feed is back).
func (c *Channel) mirrorState(state, reason string) {
	m := c.mirror
	m.mu.Lock()
	defer m.mu.Unlock()
	m.state, m.reason = state, reason
	if m.feedOK {
		c.hub.setState(state, reason)
	}
}

// mirror is the state only a mirror channel has.
type mirror struct {
	mu            sync.Mutex
	feedOK        bool   // events flow from the bus
	feedReason    string // why (not)
	feedWasDown   bool   // Feed(false) told clients the device is down
	state, reason string // the origin's device state, from its events
	bad           atomic.Uint64
}

// MirrorFeed reports whether a mirror channel's events flow from the bus,
// and why (not); ok is true and reason empty for other channels.
func (c *Channel) MirrorFeed() (mirror bool, ok bool, reason string) {
	if c.mirror == nil {
		return false, true, ""
	}
	c.mirror.mu.Lock()
	defer c.mirror.mu.Unlock()
	return true, c.mirror.feedOK, c.mirror.feedReason
}

// adoptLocked makes a Started event's epoch the mirror's, with a restart
// status, when it is another one (the mirror's first event).
func (h *hub) adoptLocked(ev *source.Event) {
	if ev.Started && ev.Epoch != h.epoch {
		h.startEpochLocked(ev.Epoch, ev.First, "joined the origin's count")
	}
}

// startEpochLocked starts epoch at first, as the origin did, and tells clients.
func (h *hub) startEpochLocked(epoch wsproto.Epoch, first uint32, reason string) {
	h.breakLocked()
	h.stats.restarts.Add(1)
	h.epoch, h.epochN, h.epochDur = epoch, 0, 0
	h.epochPos, h.first = h.ring.head, first
	h.seq.Expect(first)
	h.seen.reset()
	st := wsproto.Status{Type: wsproto.TypeStatus, State: wsproto.StateRestart, Reason: reason, Seq: first, Epoch: epoch}
	h.pushLocked(newMessageEntry(kindStatus, st, epoch, first, true))
}

// publishRaw adds a live-only JSON message given as text.
func (h *hub) publishRaw(k kind, raw []byte) {
	h.mu.Lock()
	defer h.mu.Unlock()
	next, _ := h.seq.Next()
	h.pushLocked((&entry{kind: k, epoch: h.epoch, key: next, raw: append([]byte(nil), raw...)}).withCost())
}

// newReasonGapEntry is a gap entry with another reason than device (a
// history gap the origin's bus publisher or a follower reported).
func newReasonGapEntry(from, to uint32, epoch wsproto.Epoch, reason string) *entry {
	g := wsproto.Gap{Type: wsproto.TypeGap, From: from, To: to, Count: uint64(to-from) + 1, Reason: reason, Epoch: epoch}
	e := newMessageEntry(kindGap, g, epoch, to, true)
	e.gap = &g
	return e.withCost()
}

// planBackfill lets a mirror's client that resumes from before the ring
// read what the ring lacks from the bus: the history gap the resume
// would start with (in the current epoch, right before the ring's
// position) becomes a range to backfill. Envelope clients keep the gap.
func (c *Channel) planBackfill(st *start, level uint32) {
	if c.backfill == nil || level > 0 || len(st.pre) == 0 {
		return
	}
	g, ok := st.pre[len(st.pre)-1].(wsproto.Gap)
	if !ok || g.Reason != wsproto.GapHistory || g.Epoch != st.epoch {
		return
	}
	st.pre = st.pre[:len(st.pre)-1]
	st.backfill = &g
	if g.From != st.seq && frame.SeqBefore(g.From, st.seq) {
		st.seq = g.From
	}
}

// writeBackfill sends frames gap.From..gap.To read from the bus, then the
// client continues with the ring (which holds gap.To+1 on). What the bus
// no longer holds arrives as a history gap; if the bus cannot be read,
// the rest of the range does.
func (c *client) writeBackfill(ctx context.Context, gap *wsproto.Gap) error {
	c.ch.stats.backfills.Add(1)
	c.next = gap.From
	var writeErr error
	n := 0
	emit := func(ev *source.Event) error {
		msg, bin := c.backfillMessage(ev)
		if msg == nil {
			return nil
		}
		if n%batchSize == 0 {
			c.begin()
		}
		n++
		if writeErr = c.write(msg, bin); writeErr != nil {
			c.end()
			return writeErr
		}
		if n%batchSize == 0 {
			writeErr = c.end()
		}
		return writeErr
	}
	err := c.ch.backfill(ctx, gap.Epoch, gap.From, gap.To, emit)
	if writeErr != nil {
		return writeErr
	}
	if n%batchSize != 0 {
		if err := c.end(); err != nil {
			return err
		}
	}
	if err != nil && ctx.Err() == nil && !frame.SeqBefore(gap.To, c.next) {
		c.log.Warn().Err(err).Uint32("from", c.next).Uint32("to", gap.To).Msg("cannot read the bus for a resuming client: history gap")
		return c.writeTexts([][]byte{mustJSON(historyGap(c.next, gap.To, gap.Epoch))})
	}
	return nil
}

// backfillMessage is what event ev means for this client (frames and gaps
// only), advancing its expected seq; nil when there is nothing to send.
func (c *client) backfillMessage(ev *source.Event) ([]byte, bool) {
	switch ev.Kind {
	case source.EventFrame:
		var p frame.Packet
		if err := frame.Parse(&p, ev.Raw); err != nil || p.Type != frame.TypeData {
			return nil, false
		}
		e := newFrameEntry(&p)
		e.epoch = ev.Epoch
		e.extra.Store(-1) // not in the ring: its renderings count against nothing
		c.next = ev.Seq + 1
		return c.ch.hub.encoded(e, c.format)
	case source.EventGap:
		c.next = ev.Seq + 1
		g := wsproto.Gap{Type: wsproto.TypeGap, From: ev.From, To: ev.Seq, Count: uint64(ev.Seq-ev.From) + 1,
			Reason: cmp.Or(ev.Reason, wsproto.GapDevice), Epoch: ev.Epoch}
		return mustJSON(g), false
	}
	return nil, false
}

// backfillBehind is fellBehind for a mirror's client: the frames the ring
// evicted before the client read them are read from the bus instead of
// skipped, so a client that falls behind a short ring loses nothing the
// bus still holds. Across a restart it falls back to skipping.
func (c *client) backfillBehind(ctx context.Context, oldest *entry, base uint64) error {
	first := c.ch.hub.oldestCovering(base) // not a status the mirror pushed before it joined the origin's count
	if first == nil {
		first = oldest
	}
	cover := first.key
	if first.kind == kindGap {
		cover = first.gap.From
	}
	if first.epoch != c.epoch || !frame.SeqBefore(c.next, cover) {
		return c.fellBehind(oldest, base)
	}
	c.pos.Store(base)
	c.hasFloor = false // c.next is the resume point until the first frame: the bus is read from there
	g := historyGap(c.next, cover-1, c.epoch)
	return c.writeBackfill(ctx, &g)
}

// oldestCovering is the oldest frame or gap held from position base on,
// or nil.
func (h *hub) oldestCovering(base uint64) *entry {
	h.mu.RLock()
	defer h.mu.RUnlock()
	for p := max(base, h.ring.base); p < h.ring.head; p++ {
		if e := h.ring.at(p); e.kind == kindFrame || e.kind == kindGap {
			return e
		}
	}
	return nil
}
