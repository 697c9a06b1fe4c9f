package bus

import (
	"context"
	"encoding/binary"
	"fmt"
	"os"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"

	"github.com/wsbridge/wsbridge/internal/frame"
	"github.com/wsbridge/wsbridge/internal/wsproto"
)

// memLog is a channel's event log in memory, the part of relay.Channel a
// Publisher reads: positions grow forever, at most max events are held.
type memLog struct {
	mu      sync.Mutex
	base    uint64
	evs     []Event
	max     int
	wake    chan struct{}
	epoch   wsproto.Epoch
	first   uint32
	next    uint32
	started bool // the epoch's first frame, gap or restart is in
}

func newMemLog(epoch wsproto.Epoch, first uint32, max int) *memLog {
	return &memLog{max: max, wake: make(chan struct{}), epoch: epoch, first: first, next: first}
}

// newEpoch starts a new count without a restart event, as a new serve
// process does: what comes before its first frame is not Started.
func (l *memLog) newEpoch(epoch wsproto.Epoch, first uint32) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.epoch, l.first, l.next, l.started = epoch, first, first, false
}

func (l *memLog) ReadEvents(pos uint64, dst []Event) (int, uint64, <-chan struct{}) {
	l.mu.Lock()
	defer l.mu.Unlock()
	pos = max(pos, l.base)
	n := 0
	for ; n < len(dst) && pos+uint64(n) < l.base+uint64(len(l.evs)); n++ {
		dst[n] = l.evs[pos+uint64(n)-l.base]
	}
	if n == 0 {
		return 0, pos, l.wake
	}
	return n, pos, nil
}

func (l *memLog) push(ev Event) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.started = l.started || ev.Kind == KindFrame || ev.Kind == KindGap || ev.Kind == KindRestart
	ev.Epoch, ev.First, ev.Started = l.epoch, l.first, l.started
	l.evs = append(l.evs, ev)
	if len(l.evs) > l.max {
		drop := len(l.evs) - l.max
		l.evs = slices.Delete(l.evs, 0, drop)
		l.base += uint64(drop)
	}
	close(l.wake)
	l.wake = make(chan struct{})
}

// frames appends n data frames from the next seq on.
func (l *memLog) frames(n int) {
	for range n {
		l.push(Event{Kind: KindFrame, Seq: l.next, Raw: testPacket(l.next)})
		l.next++
	}
}

// gap appends a device gap of n frames.
func (l *memLog) gap(n uint32) {
	l.push(Event{Kind: KindGap, From: l.next, Seq: l.next + n - 1, Reason: wsproto.GapDevice})
	l.next += n
}

// restart starts a new epoch at seq.
func (l *memLog) restart(epoch wsproto.Epoch, seq uint32) {
	l.mu.Lock()
	l.epoch, l.first, l.next, l.started = epoch, seq, seq, true
	l.mu.Unlock()
	l.push(Event{Kind: KindRestart, Seq: seq, Reason: "the device restarted its sequence numbers"})
}

func (l *memLog) status(k Kind, reason string) { l.push(Event{Kind: k, Seq: l.next, Reason: reason}) }

func (l *memLog) logLine(text string) {
	raw, _ := frame.AppendLog(nil, []byte(text))
	l.push(Event{Kind: KindLog, Seq: l.next, Raw: raw})
}

// testPacket is a one-sample u16 frame whose sample is its seq.
func testPacket(seq uint32) []byte {
	f := frame.Frame{Seq: seq, Rate: 16000, Channels: 1, SampleType: frame.U16, Count: 1,
		TimeUS: uint64(seq) * 62, Data: binary.LittleEndian.AppendUint16(nil, uint16(seq))}
	raw, err := frame.AppendFrame(nil, &f)
	if err != nil {
		panic(err)
	}
	return raw
}

// recorder is a Replica that keeps what it is given.
type recorder struct {
	mu   sync.Mutex
	evs  []Event
	feed []string
	more chan struct{}

	onTimeout func() // says more about the state of the bus when a wait fails
}

func newRecorder() *recorder { return &recorder{more: make(chan struct{})} }

func (r *recorder) Apply(ev *Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	e := *ev
	e.Raw = slices.Clone(ev.Raw)
	r.evs = append(r.evs, e)
	close(r.more)
	r.more = make(chan struct{})
}

func (r *recorder) Feed(ok bool, reason string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.feed = append(r.feed, fmt.Sprintf("%v %s", ok, reason))
}

// waitFor waits until cond holds for the events received, or fails t.
func (r *recorder) waitFor(t *testing.T, what string, cond func([]Event) bool) []Event {
	t.Helper()
	deadline := time.After(60 * time.Second) // generous: -race on a loaded 2-core machine
	for {
		r.mu.Lock()
		evs, more := slices.Clone(r.evs), r.more
		r.mu.Unlock()
		if cond(evs) {
			return evs
		}
		select {
		case <-more:
		case <-deadline:
			if r.onTimeout != nil {
				r.onTimeout()
			}
			t.Fatalf("timed out waiting for %s; got %d events, last: %s", what, len(evs), tail(evs))
		}
	}
}

// waitFrame waits until a frame of epoch with seq has arrived.
func (r *recorder) waitFrame(t *testing.T, epoch wsproto.Epoch, seq uint32) []Event {
	t.Helper()
	return r.waitFor(t, fmt.Sprintf("frame %s/%d", epoch, seq), func(evs []Event) bool {
		return slices.ContainsFunc(evs, func(e Event) bool { return e.Kind == KindFrame && e.Epoch == epoch && e.Seq == seq })
	})
}

func tail(evs []Event) string {
	s := ""
	for _, e := range evs[max(0, len(evs)-5):] {
		s += e.String() + "; "
	}
	return s
}

// describe renders events compactly for exact comparisons: runs of
// consecutive frames become one "frames E/A..B" line.
func describe(evs []Event) []string {
	var out []string
	for i := 0; i < len(evs); i++ {
		e := evs[i]
		if e.Kind != KindFrame {
			out = append(out, e.String())
			continue
		}
		j := i
		for j+1 < len(evs) && evs[j+1].Kind == KindFrame && evs[j+1].Epoch == e.Epoch && evs[j+1].Seq == evs[j].Seq+1 {
			j++
		}
		out = append(out, fmt.Sprintf("frames %s/%d..%d", e.Epoch, e.Seq, evs[j].Seq))
		i = j
	}
	return out
}

// checkCoverage fails t unless evs account for from..to of epoch exactly
// once and in order, each seq in a frame or a history gap; it returns the
// seqs in gaps.
func checkCoverage(t *testing.T, evs []Event, epoch string, from, to uint32) (lost []uint32) {
	t.Helper()
	next := from
	for _, e := range evs {
		switch {
		case e.Epoch != epoch:
			t.Fatalf("%s: not of epoch %s", e.String(), epoch)
		case e.Kind == KindFrame && e.Seq == next:
			next++
		case e.Kind == KindGap && e.From == next && e.Reason == wsproto.GapHistory:
			for q := e.From; q <= e.Seq; q++ {
				lost = append(lost, q)
			}
			next = e.Seq + 1
		default:
			t.Fatalf("%s where %d was next: %q", e.String(), next, describe(evs))
		}
	}
	if next != to+1 {
		t.Fatalf("events end before %d: %q", to, describe(evs))
	}
	checkPackets(t, evs)
	return lost
}

// checkPackets fails t unless every frame's packet carries its own seq.
func checkPackets(t *testing.T, evs []Event) {
	t.Helper()
	for _, e := range evs {
		if e.Kind != KindFrame {
			continue
		}
		var p frame.Packet
		if err := frame.Parse(&p, e.Raw); err != nil || p.Frame.Seq != e.Seq {
			t.Fatalf("%s: packet seq %d, err %v", e.String(), p.Frame.Seq, err)
		}
	}
}

// dial connects to url with test settings; closed at cleanup.
func dial(t *testing.T, url string, mod ...func(*Config)) *Conn {
	t.Helper()
	cfg := Config{URL: URLList{url}, Site: "lab1", AckTimeout: 2 * time.Second}
	for _, m := range mod {
		m(&cfg)
	}
	c, err := Dial(cfg, testLogger(t))
	if err != nil {
		t.Fatalf("dial %s: %v", url, err)
	}
	t.Cleanup(c.Close)
	return c
}

// publishing runs a publisher of lg on channel "mic" until the test ends.
func publishing(t *testing.T, c *Conn, lg Log) *Publisher {
	t.Helper()
	p, err := c.NewPublisher("mic", lg, testSettings)
	if err != nil {
		t.Fatal(err)
	}
	run(t, p.Run)
	return p
}

func testLogger(t *testing.T) zerolog.Logger {
	lvl, err := zerolog.ParseLevel(os.Getenv("BUS_TEST_LOG")) // e.g. BUS_TEST_LOG=debug when a case fails
	if err != nil || lvl == zerolog.NoLevel {
		lvl = zerolog.WarnLevel
	}
	return zerolog.New(zerolog.NewTestWriter(t)).Level(lvl).With().Timestamp().Logger()
}

// run starts fn in a goroutine until the test ends, failing t if it returns an error.
func run(t *testing.T, fn func(context.Context) error) context.CancelFunc {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := fn(ctx); err != nil {
			t.Errorf("run: %v", err)
		}
	}()
	t.Cleanup(func() { cancel(); <-done })
	return cancel
}

var testSettings = StreamSettings{MaxAge: time.Hour, MaxBytes: 64 << 20, Replicas: 1}

// newMsgV1 encodes ev as serves before format 2 did (one header per
// field), to prove that streams they wrote are still read; frames > 0
// makes it the last frame of a batch with that body.
func newMsgV1(subject string, ev *Event, id string, after uint64, frames int, body []byte) *nats.Msg {
	h := nats.Header{
		jetstream.MsgIDHeader: {id},
		hdrKind:               {ev.Kind.String()},
		hdrEpoch:              {ev.Epoch},
		hdrSeq:                {strconv.FormatUint(uint64(ev.Seq), 10)},
	}
	if ev.Started {
		h[hdrFirst] = []string{strconv.FormatUint(uint64(ev.First), 10)}
	}
	h[jetstream.ExpectedLastSeqHeader] = []string{strconv.FormatUint(after, 10)}
	if ev.Kind == KindGap {
		h[hdrFrom] = []string{strconv.FormatUint(uint64(ev.From), 10)}
	}
	if ev.Reason != "" {
		h[hdrReason] = []string{ev.Reason}
	}
	m := &nats.Msg{Subject: subject, Header: h, Data: ev.Raw}
	if frames > 0 {
		h[hdrFrames] = []string{strconv.Itoa(frames)}
		m.Data = body
	}
	return m
}
