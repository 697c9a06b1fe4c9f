package bus

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"

	"github.com/wsbridge/wsbridge/internal/source"
	"github.com/wsbridge/wsbridge/internal/wsproto"
)

// Replica receives a remote channel's events from a Follower (relay's
// remote channel implements it). Calls come from one goroutine at a time,
// in order, and must not block for long.
type Replica interface {
	// Apply appends one event as the origin classified it, or as the
	// follower accounted for what the stream no longer held. ev.Raw is
	// valid only during the call.
	Apply(ev *Event)
	// Feed says whether events are flowing from the bus, and if not why
	// (the bus is unreachable, the channel's stream is missing). It is
	// about the path from the bus, not the origin's device.
	Feed(ok bool, reason string)
}

// Start says where a follower begins. With Epoch set it resumes: the
// first event wanted is (Epoch, Seq). Otherwise it starts with the events
// stored at or after Since, or (zero Since) with new events only.
type Start struct {
	Epoch wsproto.Epoch
	Seq   uint32
	Since time.Time
}

// Follower reads one remote channel's stream into a Replica: one ordered
// consumer per channel per node, whatever the number of clients. It
// resumes by device position, mapped to a stream sequence by locate; it
// checks every event against the position it expects, so a start at the
// first message still held (asked 10, got 151), a consumer recreated
// after a server restart or a trimmed stream becomes an exact history gap
// in device seqs, never a silent one; and it outlives ordered-consumer
// resets, lost heartbeats and server restarts, resuming after the last
// stream sequence it applied.
//
// Run is called once; Counters and State are safe for concurrent use.
type Follower struct {
	c       *Conn
	ch      string
	stream  string
	subject string // the channel's subject (from the stream: the origin's site), for lookups
	from    Start
	r       Replica
	log     zerolog.Logger

	mu       sync.Mutex // serialises the handler across consumer resets
	cont     continuity
	consumer string  // name of the consumer that delivered the newest message
	cursor   uint64  // stream sequence of the newest event applied
	want     uint64  // the first stream sequence asked for, until something arrives
	in       []Event // the events of one message
	out      []Event

	lost chan error // the consumer is gone for good: a new session recreates it at once

	afterLocate func() // test hook: runs between the lookup and the consumer's creation

	stateMu sync.Mutex
	ok      bool
	reason  string

	events, frames, historyGaps, historyFrames, restarts, duplicates, skipped,
	silentStarts, resets, heartbeats, foreign, sessions atomic.Uint64
}

// NewFollower prepares a follower of channel ch from start into r.
func (c *Conn) NewFollower(ch string, from Start, r Replica) (*Follower, error) {
	if err := checkChannel(ch); err != nil {
		return nil, err
	}
	return &Follower{c: c, ch: ch, stream: c.layout.Stream(ch), from: from, r: r, lost: make(chan error, 1),
		log: c.log.With().Str("channel", ch).Logger(), reason: "not started"}, nil
}

// Run follows the channel until ctx ends, then returns nil. A lost bus,
// a missing stream or a failed consumer are reported through
// Replica.Feed and retried.
func (f *Follower) Run(ctx context.Context) error {
	bo := backoff{min: 100 * time.Millisecond, max: 2 * time.Second}
	var lastErr string
	for {
		if err := f.c.WaitUp(ctx); err != nil {
			return nil
		}
		before := f.events.Load()
		err := f.session(ctx)
		if ctx.Err() != nil {
			return nil
		}
		if f.events.Load() > before {
			bo.cur = 0
		}
		f.setFeed(false, err.Error())
		wait := bo.next()
		if err.Error() != lastErr {
			f.log.Warn().Err(err).Dur("retry_in", wait).Msg("bus: following interrupted")
		}
		lastErr = err.Error()
		select {
		case <-time.After(wait):
		case <-ctx.Done():
			return nil
		}
	}
}

// session creates an ordered consumer at the right place and applies
// what it delivers until ctx ends or the connection drops.
func (f *Follower) session(ctx context.Context) error {
	f.sessions.Add(1)
	// Each API request gets AckTimeout: one lost in a leader election
	// must not hold the session for the client's default of 5 s.
	actx, cancel := context.WithTimeout(ctx, f.c.cfg.AckTimeout)
	cfg, err := f.consumerConfig(actx)
	if err != nil {
		cancel()
		return err
	}
	cons, err := f.c.js.OrderedConsumer(actx, f.stream, cfg)
	cancel()
	if err != nil {
		return fmt.Errorf("failed to create a consumer on %s: %w", f.stream, f.c.explain(err, time.Now()))
	}
	cc, err := cons.Consume(f.handle, jetstream.PullExpiry(5*time.Second), jetstream.PullHeartbeat(time.Second),
		jetstream.ConsumeErrHandler(f.consumeError))
	if err != nil {
		return fmt.Errorf("failed to consume %s: %w", f.stream, err)
	}
	defer func() { cc.Stop(); <-cc.Closed() }()
	f.setFeed(true, "following "+f.stream)
	drops := f.c.disconnects.Load()
	for {
		up, reason, _, changed := f.c.State()
		if d := f.c.disconnects.Load(); d != drops { // lost and back before this goroutine looked: say so all the same
			drops = d
			f.setFeed(false, "bus: the connection was lost")
		}
		if !up {
			f.setFeed(false, "bus: "+reason)
		} else {
			f.setFeed(true, "following "+f.stream)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-cc.Closed():
			return fmt.Errorf("consumer on %s stopped", f.stream)
		case err := <-f.lost:
			return err
		case <-changed: // the ordered consumer recreates itself after a reconnect
		}
	}
}

// consumerConfig starts after the last event applied, or where Start says.
func (f *Follower) consumerConfig(ctx context.Context) (jetstream.OrderedConsumerConfig, error) {
	cfg := jetstream.OrderedConsumerConfig{InactiveThreshold: 30 * time.Second}
	f.mu.Lock()
	defer f.mu.Unlock()
	switch {
	case f.cursor > 0:
		cfg.DeliverPolicy, cfg.OptStartSeq = jetstream.DeliverByStartSequencePolicy, f.cursor+1
	case f.from.Epoch != "":
		loc, err := f.locate(ctx)
		if err != nil {
			return cfg, err
		}
		f.cont.expect(f.from.Epoch, f.from.Seq)
		if f.afterLocate != nil {
			f.afterLocate()
		}
		cfg.DeliverPolicy, cfg.OptStartSeq = jetstream.DeliverByStartSequencePolicy, loc.seq
		f.want = loc.seq
	case !f.from.Since.IsZero():
		t := f.from.Since
		cfg.DeliverPolicy, cfg.OptStartTime = jetstream.DeliverByStartTimePolicy, &t
	default:
		cfg.DeliverPolicy = jetstream.DeliverNewPolicy
	}
	return cfg, nil
}

// locate maps the resume position to a stream sequence.
func (f *Follower) locate(ctx context.Context) (located, error) {
	start := time.Now()
	st, err := f.c.js.Stream(ctx, f.stream)
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		return located{}, fmt.Errorf("%w: channel %s (no stream %s)", ErrNotFound, f.ch, f.stream)
	}
	if err != nil {
		return located{}, fmt.Errorf("failed to look up stream %s: %w", f.stream, f.c.explain(err, start))
	}
	info := st.CachedInfo()
	if len(info.Config.Subjects) == 1 {
		f.subject = info.Config.Subjects[0]
	}
	loc, err := locate(ctx, streamGetter(st, f.subject), info.State.FirstSeq, info.State.LastSeq, f.from.Epoch, f.from.Seq)
	if err != nil {
		return loc, fmt.Errorf("failed to find %s/%d in %s: %w", f.from.Epoch, f.from.Seq, f.stream, err)
	}
	f.log.Debug().Str("epoch", f.from.Epoch).Uint32("seq", f.from.Seq).Uint64("stream_seq", loc.seq).
		Bool("epoch_held", loc.found).Dur("took", time.Since(start)).Msg("bus: resume located")
	return loc, nil
}

// handle applies one delivered message.
func (f *Follower) handle(msg jetstream.Msg) {
	md, err := msg.Metadata()
	if err != nil {
		f.foreign.Add(1)
		return
	}
	sseq := md.Sequence.Stream
	f.mu.Lock()
	defer f.mu.Unlock()
	if md.Consumer != f.consumer { // a new consumer: ours (a new session) or the library's reset (after a reconnect, a sequence mismatch)
		if f.consumer != "" {
			f.resets.Add(1)
		}
		f.consumer = md.Consumer
	}
	switch {
	case f.cursor > 0 && sseq <= f.cursor:
		f.duplicates.Add(1) // delivered again after a reset
		return
	case f.cursor > 0 && sseq > f.cursor+1:
		f.skipped.Add(sseq - f.cursor - 1) // trimmed while the consumer was being recreated
	case f.cursor == 0 && f.want > 0 && sseq > f.want:
		f.silentStarts.Add(1) // asked for want, the stream no longer held it
		f.skipped.Add(sseq - f.want)
	}
	f.cursor = sseq
	f.in, err = decodeEvents(msg.Headers(), msg.Data(), f.in[:0])
	if err != nil {
		if f.foreign.Add(1) == 1 {
			f.log.Warn().Err(err).Uint64("stream_seq", sseq).Str("subject", msg.Subject()).
				Msg("bus: skipping a message wsbridge did not publish on a channel's subject")
		}
		return
	}
	for k := range f.in {
		f.out = f.cont.admit(&f.in[k], f.out[:0])
		if len(f.out) == 0 {
			f.duplicates.Add(1)
			continue
		}
		for i := range f.out {
			e := &f.out[i]
			f.count(e, i < len(f.out)-1) // admit puts what it made before ev
			f.r.Apply(e)
		}
	}
}

// count updates the counters for an applied event; made says the
// follower made it (a gap or restart the stream did not carry).
func (f *Follower) count(e *Event, made bool) {
	f.events.Add(1)
	switch {
	case e.Kind == KindFrame:
		f.frames.Add(1)
	case made && e.Kind == KindGap:
		f.historyGaps.Add(1)
		f.historyFrames.Add(uint64(e.Seq-e.From) + 1)
		f.log.Warn().Str("epoch", e.Epoch).Uint32("from", e.From).Uint32("to", e.Seq).
			Msg("bus: frames no longer in the stream: history gap")
	case made && e.Kind == KindRestart:
		f.restarts.Add(1)
	}
}

func (f *Follower) consumeError(_ jetstream.ConsumeContext, err error) {
	switch {
	case errors.Is(err, jetstream.ErrNoHeartbeat):
		// The consumer's server is gone or cut off. The ordered consumer
		// would recreate itself with a backoff growing to 10 s; a new
		// session does it now, after the last stream sequence applied.
		f.heartbeats.Add(1)
		f.loseConsumer(fmt.Errorf("no heartbeat from the server of the consumer on %s", f.stream))
	case errors.Is(err, jetstream.ErrConsumerDeleted), errors.Is(err, jetstream.ErrConsumerNotFound):
		f.loseConsumer(fmt.Errorf("the consumer on %s was deleted", f.stream))
	default:
		f.log.Debug().Err(err).Msg("bus: consumer error (the ordered consumer recovers)")
	}
}

func (f *Follower) loseConsumer(err error) {
	select {
	case f.lost <- err:
	default:
	}
}

func (f *Follower) setFeed(ok bool, reason string) {
	f.stateMu.Lock()
	changed := ok != f.ok || reason != f.reason
	f.ok, f.reason = ok, reason
	f.stateMu.Unlock()
	if changed {
		f.r.Feed(ok, reason)
	}
}

// State reports whether events are flowing, or why not.
func (f *Follower) State() (ok bool, reason string) {
	f.stateMu.Lock()
	defer f.stateMu.Unlock()
	return f.ok, f.reason
}

// Position is the stream sequence of the newest event applied (0 before any).
func (f *Follower) Position() uint64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.cursor
}

// Counters reports the follower's counters for /metrics.
func (f *Follower) Counters() []source.Counter {
	ok, _ := f.State()
	g := 0.0
	if ok {
		g = 1
	}
	return []source.Counter{
		{Name: "bus_following", Help: "1 while events flow from the bus for this remote channel", Value: g, Gauge: true},
		{Name: "bus_follow_events_total", Help: "events applied from the bus", Value: float64(f.events.Load())},
		{Name: "bus_follow_frames_total", Help: "frames applied from the bus", Value: float64(f.frames.Load())},
		{Name: "bus_follow_history_gaps_total", Help: "history gaps the follower reported for events the stream no longer held", Value: float64(f.historyGaps.Load())},
		{Name: "bus_follow_history_gap_frames_total", Help: "frames in those history gaps", Value: float64(f.historyFrames.Load())},
		{Name: "bus_follow_restarts_total", Help: "restarts reported for epochs whose restart the stream no longer held", Value: float64(f.restarts.Load())},
		{Name: "bus_follow_duplicates_total", Help: "events delivered again and dropped", Value: float64(f.duplicates.Load())},
		{Name: "bus_follow_skipped_messages_total", Help: "stream messages gone before the consumer reached them", Value: float64(f.skipped.Load())},
		{Name: "bus_follow_silent_starts_total", Help: "resumes the stream answered from a later message than asked", Value: float64(f.silentStarts.Load())},
		{Name: "bus_follow_resets_total", Help: "consumers recreated after the last event applied (missed heartbeats, a deleted consumer, a server restart, a lost connection, messages the client dropped), counted at the first message of the new one", Value: float64(f.resets.Load())},
		{Name: "bus_follow_heartbeats_missed_total", Help: "idle heartbeats missed", Value: float64(f.heartbeats.Load())},
		{Name: "bus_follow_foreign_total", Help: "messages on the channel's subject that wsbridge did not publish", Value: float64(f.foreign.Load())},
		{Name: "bus_follow_sessions_total", Help: "consumer sessions started", Value: float64(f.sessions.Load())},
	}
}
