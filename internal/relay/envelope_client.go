package relay

import (
	"github.com/wsbridge/wsbridge/internal/frame"
	"github.com/wsbridge/wsbridge/internal/wsproto"
)

// envelopeEntry handles ring entry e for an envelope client before the
// common rendering: a frame joins the client's pending batch (the one
// before it is complete, so its envelope goes out first), and is done
// with; any other entry first lets a closed pending batch go out (a gap
// or status closed it before it was pushed, so the envelope precedes it).
func (c *client) envelopeEntry(e *entry) (done bool, err error) {
	if e.kind != kindFrame {
		return false, c.envelopeReady()
	}
	c.epoch = e.epoch
	b := e.batch
	if b == c.done { // its envelope went out already (early, see envelopeReady)
		return true, nil
	}
	if c.pending != b {
		if err := c.envelopeReady(); err != nil {
			return true, err
		}
		c.pending = b
	}
	return true, c.envelopeReady()
}

// envelopeReady sends the pending batch's envelope once the batch is
// closed. Its frames never change after that, so this does not wait for
// the client to have read them all: frames of a sent batch are skipped.
func (c *client) envelopeReady() error {
	b := c.pending
	if b == nil || !b.closed.Load() {
		return nil
	}
	c.pending, c.done = nil, b
	msg := c.renderBatch(b)
	if len(msg) == 0 {
		return nil
	}
	if c.announce != "" {
		if err := c.write(c.announcementAt(b.first(), b.frames[0].epoch), false); err != nil {
			return err
		}
	}
	if err := c.write(msg, c.format != FormatJSON); err != nil {
		return err
	}
	c.watchdog.Reset(c.srv.opts.WriteTimeout)
	return nil
}

// sendPending sends the pending batch's envelope, closed while the client
// waited for entries.
func (c *client) sendPending() error {
	c.begin()
	if err := c.envelopeReady(); err != nil {
		c.end()
		return err
	}
	return c.end()
}

// renderBatch is what closed batch b means for this envelope client: its
// envelope at the client's level (shared), or, when the client's resume
// point falls inside the batch, the envelope of the frames from there on
// (computed for it alone); nothing when the batch is wholly before the
// resume point. It advances the client's expected seq past the batch.
func (c *client) renderBatch(b *batch) []byte {
	if c.hasFloor {
		if frame.SeqBefore(b.last(), c.floor) {
			return nil
		}
		if frame.SeqBefore(b.first(), c.floor) {
			c.next, c.hasFloor = b.last()+1, false
			return c.envelopeFrom(b)
		}
	}
	c.next, c.hasFloor = b.last()+1, false
	return c.ch.hub.envelope(b, c.level, c.format)
}

// envelopeFrom computes the envelope of batch b's frames from the
// client's resume point (c.floor) on, for this client only.
func (c *client) envelopeFrom(b *batch) []byte {
	skip := 0
	for skip < len(b.frames) && frame.SeqBefore(b.frames[skip].key, c.floor) {
		skip++
	}
	bin, err := b.appendEnvelope(nil, c.level, skip)
	if err != nil {
		c.log.Error().Err(err).Uint32("envelope", c.level).Msg("envelope not computed: the client sees the frames as a gap")
		return nil
	}
	c.ch.stats.envHeads.Add(1)
	if c.format == FormatJSON {
		return envelopeJSON(nil, bin, b.frames[0].epoch)
	}
	return bin
}

// announcementAt is the restart status (see announcement) before an
// envelope that starts at seq.
func (c *client) announcementAt(seq uint32, epoch wsproto.Epoch) []byte {
	st := wsproto.Status{Type: wsproto.TypeStatus, State: wsproto.StateRestart, Reason: c.announce, Seq: seq, Epoch: epoch}
	c.announce = ""
	return mustJSON(st)
}

// envelopeStartLocked adjusts a new envelope client's start (the caller
// holds the hub's lock). A live client starts with the batch being
// filled: its envelope is the first this client gets, so hello's
// start_seq is that batch's first seq. A resume inside the ring gets a
// floor, so that the batch holding its resume point is cut there. The
// client is counted in: serveWS counts it out (envelopeClientGone).
func (h *hub) envelopeStartLocked(st *start, r *resume) {
	h.envelopeClientLocked(+1)
	_, started := h.seq.Next()
	switch {
	case r == nil:
		if b := h.env.cur; b != nil {
			st.seq, st.pending = b.first(), b
		}
	case !started || st.announce != "": // the epoch has no frame yet: nothing to cut
	default:
		st.floor, st.hasFloor = st.seq, true
	}
}
