package serve

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/wsbridge/wsbridge/internal/adcsim"
	"github.com/wsbridge/wsbridge/internal/frame"
	"github.com/wsbridge/wsbridge/internal/relay"
	"github.com/wsbridge/wsbridge/internal/testsupport"
	"github.com/wsbridge/wsbridge/internal/wsproto"
)

// counterAt is the simulator's counter at running index i, channel c, in
// sample type st (adcsim: (i + c) modulo the type's range; f32 modulo 2^24).
func counterAt(st string, i uint64, c int) int64 {
	v := i + uint64(c)
	switch st {
	case "u16":
		return int64(uint16(v))
	case "i16":
		return int64(int16(v))
	case "i32":
		return int64(int32(v))
	}
	return int64(v % (1 << 24))
}

// stream is what a test expects of one channel.
type stream struct {
	name   string
	st     string // sample type
	chans  int
	fs     int  // samples per frame
	faults bool // unplugs or garbage: exact device gaps and statuses allowed
}

// log is everything one client received, decoded.
type clientLog struct {
	format string
	mu     sync.Mutex
	evs    []event
	err    error
}

func (l *clientLog) events() []event {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]event(nil), l.evs...)
}

// record reads c into a clientLog until it ends.
func record(t *testing.T, c *websocket.Conn, format string) *clientLog {
	l := &clientLog{format: format}
	go func() {
		for {
			typ, b, err := c.Read(context.Background())
			if err != nil {
				l.mu.Lock()
				l.err = err
				l.mu.Unlock()
				return
			}
			var ev event
			if typ == websocket.MessageBinary {
				var p frame.Packet
				if err := frame.Parse(&p, b); err != nil {
					ev = event{typ: "bad", raw: err.Error()}
				} else {
					ev = event{typ: "frame", seq: p.Frame.Seq, samples: rows(&p.Frame)}
				}
			} else {
				ev = decodeText(t, b)
			}
			l.mu.Lock()
			l.evs = append(l.evs, ev)
			l.mu.Unlock()
		}
	}()
	return l
}

func rows(f *frame.Frame) [][]int64 {
	var out [][]int64
	for i := 0; i < int(f.Count); i++ {
		row := make([]int64, f.Channels)
		for c := range row {
			if f.SampleType == frame.F32 {
				row[c] = int64(f.Float(i, c))
			} else {
				row[c] = f.Int(i, c)
			}
		}
		out = append(out, row)
	}
	return out
}

// check verifies one client's log: every sample is the counter, every
// frame follows the one before or the device gap announced before it, and
// a channel without faults has no gap at all. It returns the frames seen.
func (s stream) check(t *testing.T, l *clientLog) (frames int, last uint32) {
	t.Helper()
	var next uint64 // running index of the next sample expected
	var nextSeq uint32
	started := false
	for _, ev := range l.events() {
		switch ev.typ {
		case "frame", "csv":
			if ev.typ == "frame" && started && ev.seq != nextSeq {
				t.Fatalf("%s %s: frame %d, want %d", s.name, l.format, ev.seq, nextSeq)
			}
			if !started {
				next, started = uint64(ev.seq)*uint64(s.fs), true
				if ev.typ == "csv" { // no seq: the first line says where it starts
					next = uint64(ev.samples[0][0])
					nextSeq = uint32(next / uint64(s.fs))
				}
			}
			if ev.typ == "csv" {
				ev.seq = nextSeq
			}
			if len(ev.samples) != s.fs || len(ev.samples[0]) != s.chans {
				t.Fatalf("%s %s: frame of %d x %d samples, want %d x %d", s.name, l.format, len(ev.samples), len(ev.samples[0]), s.fs, s.chans)
			}
			for j, row := range ev.samples {
				for c, v := range row {
					if w := counterAt(s.st, next+uint64(j), c); v != w {
						t.Fatalf("%s %s: sample %d ch %d = %d, want %d (a frame from another device, or lost samples)", s.name, l.format, next+uint64(j), c, v, w)
					}
				}
			}
			next += uint64(s.fs)
			last = ev.seq
			nextSeq, frames = ev.seq+1, frames+1
		case wsproto.TypeGap:
			if !s.faults || ev.gap.Reason != wsproto.GapDevice || started && ev.gap.From != nextSeq {
				t.Fatalf("%s %s: gap %s after frame %d", s.name, l.format, ev.raw, nextSeq-1)
			}
			nextSeq = ev.gap.To + 1
			next += ev.gap.Count * uint64(s.fs)
		case wsproto.TypeStatus:
			if !s.faults || ev.status.State == wsproto.StateRestart {
				t.Fatalf("%s %s: status %s", s.name, l.format, ev.raw)
			}
		case wsproto.TypeHello, wsproto.TypeInfo, wsproto.TypeLog, wsproto.TypeReply:
		default:
			t.Fatalf("%s %s: unexpected %s", s.name, l.format, ev.raw)
		}
	}
	return frames, last
}

// simDevice is an adcsim device on a real pty at link, optionally
// unplugged every unplug, started after delay.
func simDevice(t *testing.T, link string, cfg adcsim.Config, unplug, delay time.Duration) {
	t.Helper()
	cfg.UnplugEvery, cfg.UnplugPause = unplug, 200*time.Millisecond
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		select {
		case <-time.After(delay):
		case <-ctx.Done():
			done <- nil
			return
		}
		done <- adcsim.Serve(ctx, adcsim.Options{Config: cfg, Link: link, Out: io.Discard})
	}()
	t.Cleanup(func() { cancel(); <-done })
}

func counterSim(st string, rate uint32, chans, fs int) adcsim.Config {
	c := adcsim.DefaultConfig()
	c.Signal, c.SampleType, c.Rate, c.Channels, c.FrameSamples, c.Seed = "counter", st, rate, chans, fs, 1
	return c
}

// garbage writes counter frames with bursts of noise between them (each
// burst ends with the 0x00 a sender writes to resynchronise) until ctx ends.
func garbage(ctx context.Context, dev *rawDevice) {
	rng := rand.New(rand.NewPCG(1, 2))
	noise := make([]byte, 4096)
	for seq := uint32(0); ctx.Err() == nil; seq++ {
		dev.frames(seq)
		for i := range noise {
			noise[i] = byte(1 + rng.IntN(255))
		}
		noise[len(noise)-1] = 0
		dev.write(noise)
		time.Sleep(20 * time.Millisecond)
	}
}

// Issue 15's multi-device test: three simulators in process and two
// devices on ptys (one unplugged every 700 ms, one flooded with garbage),
// at different rates and sample types, with a binary, a JSON and a CSV
// client each, and a device absent at start that comes up later. Every
// client of every channel gets exactly its own device's samples; the
// healthy channels lose nothing; commands reach only their channel's
// device; resumes are per channel, by since and epoch.
func TestEndToEndChannels(t *testing.T) {
	dir := t.TempDir()
	unplugged, absent := filepath.Join(dir, "ttyUNPLUG"), filepath.Join(dir, "ttyLATE")
	simDevice(t, unplugged, counterSim("f32", 2000, 1, 40), 700*time.Millisecond, 0)
	raw := newRawDevice(t)
	streams := []stream{
		{name: "mic", st: "i16", chans: 2, fs: 160},
		{name: "accel", st: "i32", chans: 1, fs: 80},
		{name: "env", st: "u16", chans: 3, fs: 20},
		{name: "bench", st: "f32", chans: 1, fs: 40, faults: true},
		{name: "noisy", st: "i16", chans: simChans, fs: simFS, faults: true},
	}
	var devs []Device
	// 50 frames/s each. The simulators never drop (max-lag): on a loaded
	// machine (or under -race) one that fell a second behind would, as a
	// real device does, and this test is about what serve loses, which
	// must be nothing.
	for _, spec := range []string{"mic=sim:signal=counter,sample-type=i16,rate=8000,channels=2,frame-samples=160,seed=1,max-lag=1h",
		"accel=sim:signal=counter,sample-type=i32,rate=4000,channels=1,frame-samples=80,seed=1,max-lag=1h",
		"env=sim:signal=counter,sample-type=u16,rate=1000,channels=3,frame-samples=20,seed=1,max-lag=1h",
		"bench=" + unplugged + ",input=frames", "noisy=" + raw.port.Link() + ",input=frames", "late=" + absent + ",input=frames"} {
		d, err := ParseDevice(spec)
		if err != nil {
			t.Fatal(err)
		}
		devs = append(devs, d)
	}
	o := DefaultOptions()
	o.Devices, o.Relay.AllowCommands = devs, true
	s := startServeRaw(t, o)
	ws := "ws" + strings.TrimPrefix(s.URL, "http") + "/ws"
	if s.WS != ws+"/mic" || !strings.Contains(s.Out.String(), ws+"/late\n") {
		t.Fatalf("listening line %q: want every channel's stream", s.Out.String())
	}
	var h relay.Health
	testsupport.GetJSON(t, s.URL+"/healthz", &h)
	if !strings.Contains(h.Channels["late"].DeviceReason, "--device late: "+absent+" not found") || !slices.Contains(h.Down, "late") ||
		!strings.Contains(h.Channels["late"].DeviceReason, "or use --device late=sim to run without a board") {
		t.Fatalf("the absent device is not reported down with its reason: %+v", h)
	}

	ctx, stopNoise := context.WithCancel(context.Background())
	defer stopNoise()
	go garbage(ctx, raw)
	logs := map[string][]*clientLog{}
	epochs := map[string]wsproto.Epoch{}
	for _, st := range streams {
		for _, f := range []string{"binary", "json", "csv"} {
			c := testsupport.Dial(t, fmt.Sprintf("%s/%s?format=%s", ws, st.name, f), nil)
			h := testsupport.ExpectHello(t, c)
			if h.Channel != st.name {
				t.Fatalf("hello on /ws/%s names %q", st.name, h.Channel)
			}
			epochs[st.name] = h.Epoch
			logs[st.name] = append(logs[st.name], record(t, c, f))
		}
	}
	simDevice(t, absent, counterSim("i16", 1000, 1, 10), 0, 0) // the late device turns up
	lateC := testsupport.Dial(t, ws+"/late", nil)
	testsupport.ExpectHello(t, lateC)
	late := record(t, lateC, "binary")

	// A command on accel reaches accel's simulator only: its reply comes
	// back on accel, on no other channel.
	ctl := testsupport.Dial(t, ws+"/accel", nil)
	testsupport.ExpectHello(t, ctl)
	if err := ctl.Write(context.Background(), websocket.MessageText, []byte(`{"type":"command","line":"info"}`)); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1500 * time.Millisecond)
	stopNoise()
	replies := func(l *clientLog) int {
		n := 0
		for _, ev := range l.events() {
			if ev.typ == wsproto.TypeReply {
				n++
			}
		}
		return n
	}
	for _, l := range logs["accel"] { // a loaded machine may take its time
		if !testsupport.Within(30*time.Second, 10*time.Millisecond, func() bool { return replies(l) > 0 }) {
			evs := l.events()
			var in relay.Info
			testsupport.GetJSON(t, s.URL+"/api/channels/accel", &in)
			t.Fatalf("no reply on accel's %s client within 30 s: it got %d messages, the last %s; accel: %+v", l.format, len(evs), evs[len(evs)-1].raw, in)
		}
	}

	lastSeq := map[string]uint32{}
	for _, st := range streams {
		for _, l := range logs[st.name] {
			n, last := st.check(t, l)
			if n < 5 {
				t.Fatalf("%s %s: only %d frames in 1.5 s", st.name, l.format, n)
			}
			lastSeq[st.name] = last
			if want := map[bool]int{true: 1, false: 0}[st.name == "accel"]; replies(l) != want {
				t.Errorf("%s %s: %d replies to a command sent on accel, want %d", st.name, l.format, replies(l), want)
			}
		}
	}
	sawUnplug := false
	for _, ev := range logs["bench"][0].events() {
		sawUnplug = sawUnplug || ev.typ == wsproto.TypeStatus && ev.status.State == wsproto.StateDown
	}
	testsupport.WaitFor(t, 5*time.Second, "the late device's frames", func() bool {
		n, _ := stream{name: "late", st: "i16", chans: 1, fs: 10, faults: true}.check(t, late)
		return n >= 5
	})
	m := metrics(t, ws)
	if !sawUnplug || m["wsbridge_device_gaps_total{channel=\"mic\"}"] != 0 || m["wsbridge_serial_noise_bytes_total{channel=\"noisy\"}"] < 4096 {
		t.Fatalf("unplug seen %v; metrics %v", sawUnplug, m)
	}

	// Resumes are per channel: env from its last frame in its epoch; mic
	// with env's epoch is told at once that it is another count.
	r := testsupport.Dial(t, fmt.Sprintf("%s/env?since=%d&epoch=%s", ws, lastSeq["env"]+1, epochs["env"]), nil)
	if h := testsupport.ExpectHello(t, r); h.StartSeq != lastSeq["env"]+1 {
		t.Fatalf("env resume: hello %+v", h)
	}
	if ev := next(t, r); ev.typ != "frame" || ev.seq != lastSeq["env"]+1 {
		t.Fatalf("env resume: %s", ev.raw)
	}
	w := testsupport.Dial(t, fmt.Sprintf("%s/mic?since=%d&epoch=%s", ws, lastSeq["mic"]+1, epochs["env"]), nil)
	testsupport.ExpectHello(t, w)
	if ev := next(t, w); ev.typ != wsproto.TypeStatus || ev.status.State != wsproto.StateRestart || ev.status.Epoch != epochs["mic"] {
		t.Fatalf("mic resumed with env's epoch: %s", ev.raw)
	}
}

// startServeRaw runs serve.Run and returns where it listens, without
// waiting for any device.
func startServeRaw(t *testing.T, o Options) *testsupport.Served {
	t.Helper()
	o.Relay.Listen, o.Log = "127.0.0.1:0", testLog()
	return testsupport.StartServe(t, func(ctx context.Context, out io.Writer) error {
		o.Out = out
		return Run(ctx, o)
	})
}
