package bus

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"

	"github.com/wsbridge/wsbridge/internal/source"
	"github.com/wsbridge/wsbridge/internal/wsproto"
)

// Log is one local channel's classified events, read by position as a
// client's cursor reads the ring (relay.Channel implements it). Positions
// grow by one per event, forever.
type Log interface {
	// ReadEvents copies events from position pos on into dst. It returns
	// how many, and the position of dst[0], which is past pos when
	// pos..first-1 have already left the log. With nothing at or after
	// pos yet, n is 0 and wait is closed when something arrives. Every
	// event carries First, the first seq of its epoch. Raw slices stay
	// valid and unchanged after the call (log entries are immutable).
	ReadEvents(pos uint64, dst []Event) (n int, first uint64, wait <-chan struct{})
}

// Publisher copies one local channel's events into its stream, in order,
// each exactly once. It never blocks the channel: it reads the log at its
// own position, keeps at most Config.Inflight publishes awaiting their
// ack, and when the bus is slow it simply reads later (the ring is the
// buffer). Every message names itself (Nats-Msg-Id) and the stream
// sequence it must follow (Nats-Expected-Last-Sequence: a channel's
// stream has one writer, so the publisher knows what each pipelined
// message will be), so after an outage it resends from its last ack
// without storing anything twice or out of order; events that left the
// ring before they could be published become one exact gap.
//
// Run is called once; State and Counters are safe for concurrent use.
type Publisher struct {
	c       *Conn
	ch      string
	lg      Log
	set     StreamSettings
	subject string
	log     zerolog.Logger

	// owned by Run
	acked    uint64 // log position after the newest acknowledged event
	highest  uint64 // log position after the newest event ever published
	after    uint64 // the stream sequence the next publish must follow
	mine     string // msg id of our newest acknowledged publish ("" before any)
	stored   Event  // the newest acknowledged event (Raw nil)
	last     Event  // the newest event published in this session (Raw nil), for gaps over lost events
	hasStore bool
	hasLast  bool
	counted  lostSet // the seqs counted as lost, so a gap published again is not counted twice

	mu     sync.Mutex
	ok     bool
	reason string

	published, messages, duplicates, resent, lostEvents, lostFrames, resyncs, failures atomic.Uint64
	inflight                                                                           atomic.Int64
	idle                                                                               atomic.Bool // everything read is acknowledged and nothing new is there
}

// NewPublisher prepares a publisher of channel ch, reading lg, into a
// stream with settings s. Run starts it.
func (c *Conn) NewPublisher(ch string, lg Log, s StreamSettings) (*Publisher, error) {
	if err := checkChannel(ch); err != nil {
		return nil, err
	}
	return &Publisher{c: c, ch: ch, lg: lg, set: s, subject: c.layout.Subject(ch),
		log: c.log.With().Str("channel", ch).Logger(), reason: "not started"}, nil
}

// Run publishes until ctx ends, then returns nil. Losing the bus is not
// an error: Run waits for it and resends from its last ack. What cannot
// heal by waiting (no JetStream, no permission, a conflicting stream)
// is logged and reported by State, and retried every 30 s in case the
// operator fixes it.
func (p *Publisher) Run(ctx context.Context) error {
	bo := backoff{min: 100 * time.Millisecond, max: 2 * time.Second} // a site whose link came back publishes within 2 s
	var lastErr string
	for {
		if err := p.c.WaitUp(ctx); err != nil {
			return nil
		}
		before := p.published.Load()
		err := p.session(ctx)
		if ctx.Err() != nil {
			return nil
		}
		if p.published.Load() > before {
			bo.cur = 0 // it worked for a while: start the backoff over
		}
		p.failures.Add(1)
		p.setState(false, err.Error())
		wait := bo.next()
		if permanent(err) || errors.Is(err, ErrTwoPublishers) {
			wait = 30 * time.Second
			if err.Error() != lastErr {
				p.log.Error().Err(err).Msg("bus: cannot publish this channel (retrying every 30s)")
			}
		} else if err.Error() != lastErr {
			p.log.Warn().Err(err).Dur("retry_in", wait).Msg("bus: publishing interrupted; will resend from the last acknowledged event")
		} else {
			p.log.Debug().Err(err).Dur("retry_in", wait).Msg("bus: publishing interrupted again")
		}
		lastErr = err.Error()
		select {
		case <-time.After(wait):
		case <-ctx.Done():
			return nil
		}
	}
}

// session ensures the stream, finds where the stream ends among our
// events and publishes from there until something fails.
func (p *Publisher) session(ctx context.Context) error {
	cctx, cancel := context.WithTimeout(ctx, p.c.cfg.AckTimeout) // JetStream API requests: a dead meta leader must not hold us long
	st, err := p.c.EnsureStream(cctx, p.ch, p.set)
	if err == nil {
		err = p.resync(cctx, st)
	}
	cancel()
	if err != nil {
		return err
	}
	p.setState(true, "publishing to "+p.subject)
	return p.pump(ctx)
}

// resync reads where the stream ends and moves acked past its last
// message if it is one of ours that was stored without its ack reaching us.
func (p *Publisher) resync(ctx context.Context, st jetstream.Stream) error {
	start := time.Now()
	p.resyncs.Add(1)
	info, err := st.Info(ctx)
	if err != nil {
		return fmt.Errorf("failed to read the state of %s: %w", p.subject, p.c.explain(err, start))
	}
	p.after = info.State.LastSeq // kept after a purge or MaxAge empties the stream
	last := ""
	if info.State.Msgs > 0 {
		m, err := st.GetLastMsgForSubject(ctx, p.subject)
		switch {
		case errors.Is(err, jetstream.ErrMsgNotFound):
		case err != nil:
			return fmt.Errorf("failed to read the last message of %s: %w", p.subject, p.c.explain(err, start))
		case m.Sequence != p.after:
			return fmt.Errorf("the stream of %s grew while it was read (last message %d, last sequence %d)", p.subject, m.Sequence, p.after)
		default:
			last = m.Header.Get(jetstream.MsgIDHeader)
		}
	}
	if last == "" || last == p.mine {
		return nil
	}
	// Stored after our newest ack? Then it is among the events from acked on.
	var buf [64]Event
	pos := p.acked
	for scanned := 0; scanned <= p.c.cfg.Inflight*p.c.cfg.Batch+len(buf); {
		n, first, _ := p.lg.ReadEvents(pos, buf[:])
		if n == 0 {
			break
		}
		for i := range n {
			q := first + uint64(i)
			if msgID(&buf[i], q) == last {
				p.acked, p.mine, p.stored, p.hasStore = q+1, last, buf[i], true
				p.stored.Raw = nil
				return nil
			}
			if i == 0 && first > pos && lostID(&buf[0], q) == last {
				p.acked, p.mine = q, last // the gap before q was stored; q was not
				return nil
			}
		}
		pos, scanned = first+uint64(n), scanned+n
	}
	if p.mine != "" {
		// We had stored events, and the stream now ends with a message
		// that is neither ours nor after ours: someone else writes here.
		return fmt.Errorf("%w: stream of %s ends with %q, after our %q: is another serve publishing channel %s (same bus.site on two hosts?)",
			ErrTwoPublishers, p.subject, last, p.mine, p.ch)
	}
	return nil // the stream's last message is from an earlier serve: ours follow it
}

type pending struct {
	next   uint64 // log position after this message's last event
	id     string
	ev     Event // its last event, Raw nil
	fut    jetstream.PubAckFuture
	events int // how many events it carries
}

// pump publishes events from acked on, at most Inflight messages
// unacknowledged, until an ack fails or ctx ends. What arrives while the
// window is full is read at once when it opens: consecutive frames go
// together in one message (up to Batch), so a bus that is slower than
// the frames gets fewer, larger messages rather than a growing queue.
func (p *Publisher) pump(ctx context.Context) error {
	var (
		buf  = make([]Event, max(64, p.c.cfg.Batch))
		fifo []pending
		pos  = p.acked
		max  = p.c.cfg.Inflight
	)
	defer p.inflight.Store(0)
	defer p.idle.Store(false)
	p.last, p.hasLast = p.stored, p.hasStore
	for {
		var wait <-chan struct{}
		for len(fifo) < max {
			n, first, w := p.lg.ReadEvents(pos, buf)
			if first > pos {
				if err := p.publishLost(&fifo, pos, first, n, buf[:n]); err != nil {
					return err
				}
				pos = first
			}
			if n == 0 {
				wait = w
				break
			}
			i := 0
			for i < n && len(fifo) < max {
				j := p.batchEnd(buf[:n], i)
				var err error
				if j-i == 1 {
					err = p.publish(&fifo, &buf[i], msgID(&buf[i], pos+uint64(i)), pos+uint64(i)+1)
				} else {
					err = p.publishBatch(&fifo, buf[i:j], pos+uint64(i))
				}
				if err != nil {
					return err
				}
				i = j
			}
			pos += uint64(i)
		}
		p.inflight.Store(int64(len(fifo)))
		p.idle.Store(len(fifo) == 0 && wait != nil)
		var ok <-chan *jetstream.PubAck
		var fail <-chan error
		if len(fifo) > 0 {
			ok, fail = fifo[0].fut.Ok(), fifo[0].fut.Err()
		}
		select {
		case ack := <-ok:
			if ack.Duplicate {
				p.duplicates.Add(1)
			}
			p.published.Add(uint64(fifo[0].events))
			p.messages.Add(1)
			p.acked, p.mine = fifo[0].next, fifo[0].id
			if fifo[0].ev.Kind != 0 {
				p.stored, p.hasStore = fifo[0].ev, true
			}
			fifo = fifo[1:]
		case err := <-fail:
			return p.ackError(err, len(fifo))
		case <-wait:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// batchEnd is the end (exclusive) of the message that starts with evs[i]:
// the frames after it that may join it, up to Batch frames and a quarter
// of the largest message the server takes.
func (p *Publisher) batchEnd(evs []Event, i int) int {
	head := &evs[i]
	if head.Kind != KindFrame || !head.Started {
		return i + 1
	}
	limit := int(p.c.nc.MaxPayload() / 4)
	if limit <= 0 {
		limit = 256 << 10
	}
	size, j := 8+len(head.Raw), i+1
	for j < len(evs) && j-i < p.c.cfg.Batch && batchable(head, &evs[j]) && size+8+len(evs[j].Raw) <= limit {
		size += 8 + len(evs[j].Raw)
		j++
	}
	return j
}

func (p *Publisher) publish(fifo *[]pending, ev *Event, id string, next uint64) error {
	return p.send(fifo, newMsg(p.subject, ev, id, p.after), ev, id, next, 1)
}

// publishBatch publishes frames evs, the first at log position pos, as
// one message named by its last frame.
func (p *Publisher) publishBatch(fifo *[]pending, evs []Event, pos uint64) error {
	last := &evs[len(evs)-1]
	next := pos + uint64(len(evs))
	id := msgID(last, next-1)
	return p.send(fifo, newBatchMsg(p.subject, evs, id, p.after), last, id, next, len(evs))
}

// send publishes m, which carries events up to ev (log position next-1).
func (p *Publisher) send(fifo *[]pending, m *nats.Msg, ev *Event, id string, next uint64, events int) error {
	if next <= p.highest {
		p.resent.Add(uint64(events))
	}
	p.highest = max(p.highest, next)
	fut, err := p.c.js.PublishMsgAsync(m)
	if err != nil {
		return fmt.Errorf("failed to publish to %s: %w", p.subject, err)
	}
	e := *ev
	e.Raw = nil
	*fifo = append(*fifo, pending{next: next, id: id, ev: e, fut: fut, events: events})
	p.after++
	p.last, p.hasLast = e, true
	return nil
}

// publishLost publishes one gap for the events pos..first-1 that left the
// log before they were published, named by the seqs they covered: from
// after the last event published to before the next one held. n and evs
// are what the log still holds from first on.
func (p *Publisher) publishLost(fifo *[]pending, pos, first uint64, n int, evs []Event) error {
	p.lostEvents.Add(first - pos)
	if n == 0 {
		return nil // nothing after them yet: the gap is published with the next event
	}
	next := &evs[0]
	if next.Kind == KindRestart || !next.Started {
		return nil // the restart tells readers that the count started over; or no count yet
	}
	from := next.First
	if p.hasLast && p.last.Epoch == next.Epoch && p.last.Started {
		from = nextAfter(&p.last)
	}
	to := coverStart(next) - 1
	if to-next.First >= 1<<31 || from-next.First > to-next.First { // nothing between them
		return nil
	}
	p.countLost(next.Epoch, next.First, from, to)
	p.log.Warn().Uint32("from", from).Uint32("to", to).Str("epoch", next.Epoch).
		Msg("bus: frames left the ring before the bus took them (bus down longer than --history): publishing a history gap")
	gap := Event{Kind: KindGap, Epoch: next.Epoch, Started: true, First: next.First, From: from, Seq: to, Reason: wsproto.GapHistory}
	return p.publish(fifo, &gap, lostID(next, first), first)
}

// countLost counts the frames from..to that had not been counted lost.
func (p *Publisher) countLost(epoch string, first, from, to uint32) {
	p.lostFrames.Add(p.counted.add(epoch, from-first, to-first))
}

// lostSet holds the ranges of one epoch counted lost (keys relative to
// the epoch's first seq), merged and bounded.
type lostSet struct {
	epoch string
	spans [][2]uint32 // sorted, disjoint, inclusive
}

// add records lo..hi and returns how many of them were new.
func (l *lostSet) add(epoch string, lo, hi uint32) uint64 {
	if epoch != l.epoch {
		l.epoch, l.spans = epoch, nil
	}
	n := uint64(hi-lo) + 1
	var out [][2]uint32
	for _, s := range l.spans {
		if s[1] < lo || s[0] > hi {
			out = append(out, s)
			continue
		}
		n -= uint64(min(s[1], hi)-max(s[0], lo)) + 1
		lo, hi = min(lo, s[0]), max(hi, s[1])
	}
	out = append(out, [2]uint32{lo, hi})
	slices.SortFunc(out, func(a, b [2]uint32) int { return cmp.Compare(a[0], b[0]) })
	if len(out) > 64 { // bounded: forget the oldest (a later resend may count it again)
		out = out[len(out)-64:]
	}
	l.spans = out
	return n
}

// nextAfter is the first seq not covered by ev or anything before it.
func nextAfter(ev *Event) uint32 {
	if ev.Kind == KindFrame || ev.Kind == KindGap {
		return ev.Seq + 1
	}
	return ev.Seq // restart: its first seq; others: the seq expected next
}

// coverStart is the first seq ev accounts for.
func coverStart(ev *Event) uint32 {
	if ev.Kind == KindGap {
		return ev.From
	}
	return ev.Seq
}

// ackError explains a failed publish; the next session resends from acked.
func (p *Publisher) ackError(err error, inflight int) error {
	var apiErr *jetstream.APIError
	if errors.As(err, &apiErr) && (apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequence ||
		apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequenceConstant) {
		return fmt.Errorf("the stream does not end where this publisher expected (%v): reading it again", err)
	}
	if errors.Is(err, jetstream.ErrAsyncPublishTimeout) {
		err = p.c.explain(err, time.Now().Add(-p.c.cfg.AckTimeout))
	}
	return fmt.Errorf("publish to %s failed with %d awaiting ack: %w", p.subject, inflight, err)
}

func (p *Publisher) setState(ok bool, reason string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if ok && !p.ok {
		p.log.Info().Str("subject", p.subject).Uint64("from_position", p.acked).Msg("bus: publishing")
	}
	p.ok, p.reason = ok, reason
}

// caughtUp reports whether every event of the log has been acknowledged,
// as of the publisher's last look.
func (p *Publisher) caughtUp() bool { return p.idle.Load() }

// State reports whether the channel is being published, or why not.
func (p *Publisher) State() (ok bool, reason string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.ok, p.reason
}

// Counters reports the publisher's counters for /metrics (channel label added by the caller).
func (p *Publisher) Counters() []source.Counter {
	ok, _ := p.State()
	g := 0.0
	if ok {
		g = 1
	}
	return []source.Counter{
		{Name: "bus_publishing", Help: "1 while the channel is being published to the bus", Value: g, Gauge: true},
		{Name: "bus_published_total", Help: "events the bus acknowledged", Value: float64(p.published.Load())},
		{Name: "bus_published_messages_total", Help: "messages the bus acknowledged (several frames each when the bus is slower than the frames)", Value: float64(p.messages.Load())},
		{Name: "bus_publish_duplicates_total", Help: "resent messages the bus already held (acknowledged as duplicates, stored once)", Value: float64(p.duplicates.Load())},
		{Name: "bus_publish_resent_total", Help: "events published again after an interrupted session", Value: float64(p.resent.Load())},
		{Name: "bus_publish_inflight", Help: "messages awaiting the bus's ack", Value: float64(p.inflight.Load()), Gauge: true},
		{Name: "bus_publish_lost_events_total", Help: "events that left the ring before the bus took them", Value: float64(p.lostEvents.Load())},
		{Name: "bus_publish_lost_frames_total", Help: "frames in the history gaps published for lost events", Value: float64(p.lostFrames.Load())},
		{Name: "bus_publish_failures_total", Help: "publishing sessions that ended in an error", Value: float64(p.failures.Load())},
		{Name: "bus_publish_resyncs_total", Help: "times the stream's end was read to continue after it", Value: float64(p.resyncs.Load())},
	}
}

// backoff doubles from min to max with jitter-free steps; reset by a new value.
type backoff struct {
	min, max, cur time.Duration
}

func (b *backoff) next() time.Duration {
	if b.cur == 0 {
		b.cur = b.min
	} else {
		b.cur = min(2*b.cur, b.max)
	}
	return b.cur
}
