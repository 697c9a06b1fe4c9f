// Package sourcetest is the conformance suite every source.Source passes
// (litestream runs one suite against every replica client; wsbridge runs
// this one against every kind of device): the golden table of
// internal/frame/frametest goes in at the device's end and must come out
// of the source byte for byte, every malformed input must be dropped,
// commands must reach the device, and Run must end when asked.
//
// Entry point: Run(t, Kind). A Kind says how to make a source and the far
// end of it (a Device): a pty for a serial port, a WebSocket for a Wi-Fi
// board. A generator (the simulator) has no far end to write to: the
// suite checks what it produces instead.
package sourcetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wsbridge/wsbridge/internal/frame"
	"github.com/wsbridge/wsbridge/internal/frame/frametest"
	"github.com/wsbridge/wsbridge/internal/source"
)

// Device is the far end of a source under test: what the real device
// would be.
type Device interface {
	// Write delivers one input the way this kind of device does. serial
	// is the input as a serial line carries it (COBS with the 0x00
	// delimiter), packet as one message carries it (nil for a fault in
	// the serial framing only). It reports false if the input cannot be
	// given on this kind of link (it is then not expected either way).
	Write(t testing.TB, serial, packet []byte) bool
	// Lines receives the command lines the source wrote to the device.
	Lines() <-chan string
}

// Kind is one implementation of source.Source.
type Kind struct {
	Name string
	// New makes a source and its device. The device must accept Write
	// once the source has reported Up.
	New func(t *testing.T) (source.Source, Device)
	// Generator is set for a source whose device makes its own frames
	// (the simulator): New returns a nil Device, the golden table does
	// not apply, and commands are checked by the reply the device sends.
	Generator bool
}

// Run runs the suite against k.
func Run(t *testing.T, k Kind) {
	t.Run("CommandBeforeRun", func(t *testing.T) { commandBeforeRun(t, k) })
	t.Run("Counters", func(t *testing.T) { counters(t, k) })
	if k.Generator {
		t.Run("Generates", func(t *testing.T) { generates(t, k) })
	} else {
		t.Run("GoldenPassesThrough", func(t *testing.T) { golden(t, k) })
		t.Run("MalformedDropped", func(t *testing.T) { malformed(t, k) })
	}
	t.Run("Command", func(t *testing.T) { command(t, k) })
	t.Run("CancelEndsRun", func(t *testing.T) { cancel(t, k) })
}

// Recorder is a source.Publisher that keeps everything it gets, in
// order. Its methods are safe for concurrent use.
type Recorder struct {
	mu      sync.Mutex
	packets []frame.Packet
	events  []string // "up REASON" and "down REASON", in order with the packets' count at the time
	closed  bool     // Run returned: calls after that are an error
	late    []string
}

// Packet keeps a copy of p.
func (r *Recorder) Packet(p *frame.Packet) { r.add(p.Clone(), "") }

// Up notes an Up.
func (r *Recorder) Up(reason string) { r.add(frame.Packet{}, "up "+reason) }

// Down notes a Down.
func (r *Recorder) Down(reason string) { r.add(frame.Packet{}, "down "+reason) }

func (r *Recorder) add(p frame.Packet, ev string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		r.late = append(r.late, fmt.Sprintf("packet type %d / event %q", p.Type, ev))
		return
	}
	if ev != "" {
		r.events = append(r.events, ev)
		return
	}
	r.packets = append(r.packets, p)
}

// Packets returns copies of the packets so far.
func (r *Recorder) Packets() []frame.Packet {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]frame.Packet(nil), r.packets...)
}

// Events returns the Up and Down calls so far.
func (r *Recorder) Events() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.events...)
}

func (r *Recorder) isUp() bool {
	ev := r.Events()
	return len(ev) > 0 && strings.HasPrefix(ev[len(ev)-1], "up ")
}

// running is a source being run by the suite.
type running struct {
	src  source.Source
	dev  Device
	rec  *Recorder
	stop context.CancelFunc
	done chan error
}

// start makes and runs a source of kind k and waits until it is up.
func start(t *testing.T, k Kind) *running {
	t.Helper()
	src, dev := k.New(t)
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{src: src, dev: dev, rec: &Recorder{}, stop: cancel, done: make(chan error, 1)}
	go func() { r.done <- src.Run(ctx, r.rec) }()
	t.Cleanup(func() { r.end(t) })
	wait(t, 10*time.Second, "the source to report Up", func() bool {
		select {
		case err := <-r.done:
			r.done <- err
			t.Fatalf("Run returned %v before Up", err)
		default:
		}
		return r.rec.isUp()
	})
	return r
}

// end cancels Run and checks it returns nil promptly; nothing may reach
// the Publisher after it returned.
func (r *running) end(t *testing.T) {
	t.Helper()
	r.stop()
	select {
	case err := <-r.done:
		r.done <- err
		if err != nil {
			t.Errorf("Run returned %v after cancel, want nil", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return within 5 s of cancel")
	}
	r.rec.mu.Lock()
	r.rec.closed = true
	r.rec.mu.Unlock()
	time.Sleep(50 * time.Millisecond)
	r.rec.mu.Lock()
	defer r.rec.mu.Unlock()
	if len(r.rec.late) > 0 {
		t.Errorf("the Publisher was called after Run returned: %v", r.rec.late)
	}
}

func wait(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// golden: every golden packet written at the device comes out of the
// source byte for byte and in order, data frames included whatever their
// seq says (0, 7, 0xFFFFFFFF, 42, 1: the channel classifies them, a
// source never drops one).
func golden(t *testing.T, k Kind) {
	r := start(t, k)
	var want [][]byte
	for i := range frametest.Golden {
		c := &frametest.Golden[i]
		if r.dev.Write(t, c.SerialBytes(), c.Bytes()) {
			want = append(want, c.Bytes())
		}
	}
	if len(want) == 0 {
		t.Fatal("the device took none of the golden packets")
	}
	expectPackets(t, r.rec, want)
}

// malformed: every malformed input of frametest.Failing written between
// two good packets is dropped, the good ones around it arrive.
func malformed(t *testing.T, k Kind) {
	r := start(t, k)
	var want [][]byte
	good := func(i int) {
		c := &frametest.Golden[i%len(frametest.Golden)]
		if r.dev.Write(t, c.SerialBytes(), c.Bytes()) {
			want = append(want, c.Bytes())
		}
	}
	for i := range frametest.Failing {
		b := &frametest.Failing[i]
		good(i)
		var pkt []byte
		if b.Hex != "" {
			pkt = b.Bytes()
		}
		if !r.dev.Write(t, b.SerialBytes(), pkt) {
			t.Logf("%s: not given on this link", b.Name)
		}
	}
	good(0)
	expectPackets(t, r.rec, want)
}

// expectPackets waits for exactly want, in order, and nothing else.
func expectPackets(t *testing.T, rec *Recorder, want [][]byte) {
	t.Helper()
	wait(t, 10*time.Second, fmt.Sprintf("%d packets", len(want)), func() bool { return len(rec.Packets()) >= len(want) })
	time.Sleep(100 * time.Millisecond) // anything more that was going to come
	got := rec.Packets()
	if len(got) != len(want) {
		t.Fatalf("got %d packets, want %d", len(got), len(want))
	}
	for i := range want {
		if !bytes.Equal(got[i].Raw, want[i]) {
			t.Fatalf("packet %d:\n got %x\nwant %x", i, got[i].Raw, want[i])
		}
	}
}

// generates: a generator's frames are valid packets whose seqs count up
// from its first, after an info packet that describes them.
func generates(t *testing.T, k Kind) {
	r := start(t, k)
	wait(t, 10*time.Second, "20 data frames", func() bool { return len(frames(r.rec)) >= 20 })
	fs := frames(r.rec)
	for i := 1; i < len(fs); i++ {
		if fs[i].Seq != fs[i-1].Seq+1 {
			t.Fatalf("frame %d has seq %d after %d", i, fs[i].Seq, fs[i-1].Seq)
		}
	}
	var p frame.Packet
	for _, pk := range r.rec.Packets() {
		if err := frame.Parse(&p, pk.Raw); err != nil {
			t.Fatalf("a packet that does not parse: %v", err)
		}
	}
	for _, pk := range r.rec.Packets() {
		if pk.Type == frame.TypeInfo {
			break
		}
		if pk.Type == frame.TypeData {
			t.Fatal("a data frame before any device info: nothing describes it")
		}
	}
}

func frames(rec *Recorder) []frame.Frame {
	var out []frame.Frame
	for _, p := range rec.Packets() {
		if p.Type == frame.TypeData {
			out = append(out, p.Frame)
		}
	}
	return out
}

// command: a line given to Command reaches the device once, unchanged (a
// generator answers it with a reply naming it).
func command(t *testing.T, k Kind) {
	r := start(t, k)
	if err := r.src.Command("info"); err != nil {
		t.Fatalf("Command while up: %v", err)
	}
	if k.Generator {
		wait(t, 5*time.Second, "the reply to info", func() bool {
			for _, p := range r.rec.Packets() {
				if p.Type == frame.TypeReply && strings.Contains(string(p.Text), "info") {
					return true
				}
			}
			return false
		})
	} else {
		select {
		case l := <-r.dev.Lines():
			if l != "info" {
				t.Fatalf("the device got %q, want info", l)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("the command did not reach the device within 5 s")
		}
	}
	if err := r.src.Command("two\nlines"); err == nil {
		t.Error("Command accepted a line with a line break")
	}
}

// commandBeforeRun: before Run, Command fails with an error wrapping
// source.ErrDown.
func commandBeforeRun(t *testing.T, k Kind) {
	src, _ := k.New(t)
	if err := src.Command("info"); !errors.Is(err, source.ErrDown) {
		t.Fatalf("Command before Run = %v, want an error wrapping source.ErrDown", err)
	}
}

var counterName = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)

// counters: names as /metrics needs them (no prefix, unique, lower case,
// counters end in _total), each with help.
func counters(t *testing.T, k Kind) {
	src, _ := k.New(t)
	seen := map[string]bool{}
	cs := src.Counters()
	if len(cs) == 0 {
		t.Fatal("no counters")
	}
	for _, c := range cs {
		switch {
		case !counterName.MatchString(c.Name) || strings.HasPrefix(c.Name, "wsbridge_"):
			t.Errorf("counter name %q: want lower case without the wsbridge_ prefix", c.Name)
		case seen[c.Name]:
			t.Errorf("counter %q reported twice", c.Name)
		case c.Help == "":
			t.Errorf("counter %q has no help", c.Name)
		case !c.Gauge && !strings.HasSuffix(c.Name, "_total"):
			t.Errorf("counter %q does not end in _total", c.Name)
		}
		seen[c.Name] = true
	}
}

// cancel: Run returns nil promptly once its context ends (checked by
// every test's cleanup too) and Command then fails with ErrDown.
func cancel(t *testing.T, k Kind) {
	r := start(t, k)
	r.end(t)
	if err := r.src.Command("info"); !errors.Is(err, source.ErrDown) {
		t.Errorf("Command after Run returned = %v, want an error wrapping source.ErrDown", err)
	}
}
