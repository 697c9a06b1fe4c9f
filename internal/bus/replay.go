package bus

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/wsbridge/wsbridge/internal/frame"
	"github.com/wsbridge/wsbridge/internal/wsproto"
)

// replayWait bounds the wait for each message of a Replay: what it asks
// for is stored already, so a long silence means the bus is gone.
const replayWait = 3 * time.Second

// Replay reads frames from..to (inclusive) of epoch from channel ch's
// stream and passes them to emit in order, as frames, device gaps and
// history gaps (what the stream no longer holds), so that from..to is
// accounted for exactly once. It is what a mirror's client that resumes
// from before the mirror's ring gets first; the ring holds to+1 on.
// Only frames and gaps are emitted (a resume replays no statuses). It
// returns emit's error, or the bus's when it cannot read; what it could
// not read is then not accounted for, and the caller ends the client.
func (c *Conn) Replay(ctx context.Context, ch string, epoch wsproto.Epoch, from, to uint32, emit func(*Event) error) error {
	if frame.SeqBefore(to, from) {
		return nil // nothing to read
	}
	start := time.Now()
	actx, cancel := context.WithTimeout(ctx, c.cfg.AckTimeout)
	defer cancel()
	st, err := c.js.Stream(actx, c.layout.Stream(ch))
	if err != nil {
		return fmt.Errorf("failed to look up the stream of %s: %w", ch, c.explain(err, start))
	}
	info := st.CachedInfo()
	if len(info.Config.Subjects) != 1 {
		return fmt.Errorf("%w: stream %s has subjects %v", ErrBadMessage, info.Config.Name, info.Config.Subjects)
	}
	loc, err := locate(actx, streamGetter(st, info.Config.Subjects[0]), info.State.FirstSeq, info.State.LastSeq, epoch, from)
	if err != nil {
		return err
	}
	c.log.Debug().Str("channel", ch).Str("epoch", epoch).Uint32("from", from).Uint32("to", to).Uint64("stream_seq", loc.seq).
		Bool("found", loc.found).Uint64("first", info.State.FirstSeq).Uint64("last", info.State.LastSeq).Msg("bus: replay for a resuming client")
	r := replayer{epoch: epoch, from: from, to: to, emit: emit}
	r.cont.expect(epoch, from)
	if !loc.found || loc.seq > info.State.LastSeq {
		return r.finish()
	}
	cons, err := c.js.OrderedConsumer(actx, info.Config.Name, jetstream.OrderedConsumerConfig{
		DeliverPolicy: jetstream.DeliverByStartSequencePolicy, OptStartSeq: loc.seq, InactiveThreshold: 30 * time.Second})
	if err != nil {
		return fmt.Errorf("failed to read %s from the bus: %w", ch, c.explain(err, start))
	}
	it, err := cons.Messages(jetstream.PullMaxMessages(512))
	if err != nil {
		return fmt.Errorf("failed to read %s from the bus: %w", ch, err)
	}
	defer it.Stop()
	for !r.done {
		mctx, mcancel := context.WithTimeout(ctx, replayWait)
		msg, err := it.Next(jetstream.NextContext(mctx))
		mcancel()
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if errors.Is(err, context.DeadlineExceeded) {
				break // the stream ends before to: what is missing is a history gap
			}
			return fmt.Errorf("failed to read %s from the bus: %w", ch, err)
		}
		evs, err := decodeEvents(msg.Headers(), msg.Data(), r.in[:0])
		if err != nil {
			continue // not wsbridge's: the follower counts these
		}
		r.in = evs
		for i := range evs {
			if r.done {
				break
			}
			if err := r.event(&evs[i]); err != nil {
				return err
			}
		}
	}
	return r.finish()
}

// replayer accounts for from..to of epoch from what the stream delivers.
type replayer struct {
	epoch    wsproto.Epoch
	from, to uint32
	emit     func(*Event) error
	cont     continuity
	in, out  []Event
	done     bool
}

// event takes one stored event; done once to is accounted for or the
// epoch ended.
func (r *replayer) event(ev *Event) error {
	if !ev.Started || ev.Kind != KindFrame && ev.Kind != KindGap && ev.Kind != KindRestart {
		return nil // statuses and device text are not replayed
	}
	if ev.Epoch != r.epoch || r.after(coverStart(ev)) {
		r.done = true
		return nil
	}
	r.out = r.cont.admit(ev, r.out[:0])
	for i := range r.out {
		e := &r.out[i]
		if e.Kind == KindRestart {
			continue
		}
		if e.Kind == KindGap && r.after(e.Seq) { // a gap reaching into what the ring holds: clip it
			g := *e
			g.Seq = r.to
			e = &g
		}
		if err := r.emit(e); err != nil {
			return err
		}
	}
	r.done = r.cont.known && r.cont.epoch == r.epoch && r.after(r.cont.next)
	return nil
}

// finish reports what the stream did not have up to to as a history gap.
func (r *replayer) finish() error {
	next := r.from
	if r.cont.known && r.cont.epoch == r.epoch && r.cont.firstKnown {
		next = r.cont.next
	}
	if r.after(next) {
		return nil
	}
	return r.emit(&Event{Kind: KindGap, Epoch: r.epoch, Started: true, From: next, Seq: r.to, Reason: wsproto.GapHistory})
}

// after reports whether seq is past to.
func (r *replayer) after(seq uint32) bool { return frame.SeqBefore(r.to, seq) }
