package capture

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/wsbridge/wsbridge/internal/frame"
	"github.com/wsbridge/wsbridge/internal/vport"
)

// EventKind is what the recorder saw a Capture report besides packets.
type EventKind uint8

// The Publisher calls a Capture makes besides Packet.
const (
	DeviceUp   EventKind = iota + 1 // Up
	DeviceDown                      // Down
)

// Event is one Up or Down call.
type Event struct {
	Kind   EventKind
	Reason string
}

// recorder is a source.Publisher that keeps copies of everything it gets.
type recorder struct {
	mu      sync.Mutex
	c       *Capture // for what Stats says (the input detected)
	packets []frame.Packet
	events  []Event
	changed chan struct{}
}

func newRecorder() *recorder { return &recorder{changed: make(chan struct{}, 1)} }

func (r *recorder) Packet(p *frame.Packet) {
	r.mu.Lock()
	r.packets = append(r.packets, p.Clone())
	r.mu.Unlock()
	r.poke()
}

func (r *recorder) Up(reason string)   { r.event(Event{Kind: DeviceUp, Reason: reason}) }
func (r *recorder) Down(reason string) { r.event(Event{Kind: DeviceDown, Reason: reason}) }

func (r *recorder) event(e Event) {
	r.mu.Lock()
	r.events = append(r.events, e)
	r.mu.Unlock()
	r.poke()
}

func (r *recorder) poke() {
	select {
	case r.changed <- struct{}{}:
	default:
	}
}

// frames returns the data frames received so far.
func (r *recorder) frames() []frame.Frame {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []frame.Frame
	for _, p := range r.packets {
		if p.Type == frame.TypeData {
			out = append(out, p.Frame)
		}
	}
	return out
}

func (r *recorder) eventList() []Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Event(nil), r.events...)
}

// waitFor polls cond until it holds, failing the test after 5 s.
func (r *recorder) waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.NewTimer(5 * time.Second)
	defer deadline.Stop()
	for !cond() {
		select {
		case <-r.changed:
		case <-time.After(20 * time.Millisecond):
		case <-deadline.C:
			t.Fatalf("timed out waiting for %s; events %v", what, r.eventList())
		}
	}
}

func (r *recorder) hasEvent(k EventKind, n int) func() bool {
	return func() bool {
		c := 0
		for _, e := range r.eventList() {
			if e.Kind == k {
				c++
			}
		}
		return c >= n
	}
}

// counterFrame is a u16 counter frame: sample i of channel c of the
// stream is (seq*count + i + c) mod 2^16.
func counterFrame(seq uint32, count, channels int) []byte {
	f := frame.Frame{Seq: seq, TimeUS: uint64(seq) * 1000, Rate: 16000, Channels: uint8(channels),
		SampleType: frame.U16, Count: uint16(count)}
	f.Data = make([]byte, f.PayloadSize())
	for i := 0; i < count; i++ {
		for c := 0; c < channels; c++ {
			f.PutInt(i, c, int64(int(seq)*count+i+c))
		}
	}
	pkt, err := frame.AppendFrame(nil, &f)
	if err != nil {
		panic(err)
	}
	return frame.AppendSerial(nil, pkt)
}

func counterFrames(from, to uint32, count, channels int) []byte {
	var b []byte
	for s := from; s < to; s++ {
		b = append(b, counterFrame(s, count, channels)...)
	}
	return b
}

// checkCounter asserts that f holds the counter samples of its seq.
func checkCounter(t testing.TB, f frame.Frame) {
	t.Helper()
	for i := 0; i < int(f.Count); i++ {
		for c := 0; c < int(f.Channels); c++ {
			want := uint16(int(f.Seq)*int(f.Count) + i + c)
			if got := f.Int(i, c); got != int64(want) {
				t.Fatalf("frame %d sample %d ch %d = %d, want %d", f.Seq, i, c, got, want)
			}
		}
	}
}

// newPort makes a virtual serial port with a symlink in a temp dir.
func newPort(t testing.TB) *vport.Port {
	t.Helper()
	p, err := vport.Create(filepath.Join(t.TempDir(), "ttyESP"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

// start runs a capture of opts and waits for DeviceUp. The capture stops
// when the test ends.
func start(t testing.TB, opts Options) (*Capture, *recorder) {
	t.Helper()
	return startWith(t, opts, func() ([]PortInfo, error) { return nil, nil })
}

// startWith is start with a stubbed port enumeration.
func startWith(t testing.TB, opts Options, list func() ([]PortInfo, error)) (*Capture, *recorder) {
	t.Helper()
	opts.Log = zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.InfoLevel)
	c, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	c.list = list
	rec := newRecorder()
	rec.c = c
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx, rec) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(5 * time.Second):
			t.Errorf("Run did not return after cancel")
		}
	})
	rec.waitFor(t, "device up", rec.hasEvent(DeviceUp, 1))
	return c, rec
}

func write(t testing.TB, p *vport.Port, b []byte) {
	t.Helper()
	if _, err := p.Write(b); err != nil {
		t.Fatal(err)
	}
}

// statsWhen polls c.Stats until ready holds (the snapshot is published
// after each read, so it may trail the handler by one read) and returns it.
func statsWhen(t testing.TB, c *Capture, ready func(Stats) bool) Stats {
	t.Helper()
	for i := 0; i < 250; i++ {
		if s := c.Stats(); ready(s) {
			return s
		}
		time.Sleep(20 * time.Millisecond)
	}
	return c.Stats()
}

func framesAtLeast(n uint64) func(Stats) bool { return func(s Stats) bool { return s.Frames >= n } }
func bytesAtLeast(n int) func(Stats) bool {
	return func(s Stats) bool { return s.Bytes >= uint64(n) }
}
