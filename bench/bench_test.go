package main

import (
	"context"
	"math"
	"os/exec"
	"testing"
	"time"

	"github.com/wsbridge/wsbridge/internal/frame"
)

func TestHistQuantiles(t *testing.T) {
	var h hist
	for v := uint64(1); v <= 1000; v++ {
		h.add(v)
	}
	h.add(50000)
	if h.n != 1001 || h.max != 50000 {
		t.Fatalf("n=%d max=%d, want 1001 and 50000", h.n, h.max)
	}
	for _, c := range []struct{ q, want float64 }{{0.5, 501}, {0.99, 991}, {1, 50000}} {
		got := h.quantile(c.q)
		if math.Abs(got-c.want)/c.want > 0.04 { // buckets are ~3% wide
			t.Errorf("quantile(%v) = %v, want %v within 4%%", c.q, got, c.want)
		}
	}
	for v := uint64(0); v < 1<<20; v = v*2 + 1 {
		if i := bucketOf(v); lowOf(i) > v || lowOf(i+1) <= v {
			t.Fatalf("value %d in bucket %d [%d, %d)", v, i, lowOf(i), lowOf(i+1))
		}
	}
}

// TestTallyAccountsForEverySample feeds the writer's stream through the
// same decoder the consumers use, with one frame dropped and one sample
// corrupted, and checks that the tally says exactly that.
func TestTallyAccountsForEverySample(t *testing.T) {
	s := newStream(48000, 480)
	tl := &tally{checkAll: true, frameSample: 480}
	d := frame.NewDecoder(func(p *frame.Packet) {
		if p.Type == frame.TypeData {
			tl.observe(&p.Frame, p.Frame.TimeUS+250)
		}
	})
	d.Write(s.info(nil))
	for k := 0; k < 100; k++ {
		b := s.next(nil, uint64(k)*10000)
		switch k {
		case 40: // lost on the way
			continue
		case 70: // one sample changed, CRC recomputed: a bridge that mangles data
			b = corruptSample(t, b)
		}
		d.Write(b)
	}
	if tl.frames != 99 || tl.missing != 1 || tl.dups != 0 || tl.badSamples != 1 {
		t.Fatalf("frames %d missing %d dups %d bad %d, want 99 1 0 1", tl.frames, tl.missing, tl.dups, tl.badSamples)
	}
	if tl.sampleBytes != 99*960 || tl.lat.quantile(0.5) != 250 || tl.lat.max != 250 {
		t.Fatalf("sample bytes %d, latency p50 %v max %d; want %d, 250, 250",
			tl.sampleBytes, tl.lat.quantile(0.5), tl.lat.max, 99*960)
	}
}

func corruptSample(t *testing.T, serial []byte) []byte {
	t.Helper()
	raw, err := frame.DecodeCOBS(nil, serial[:len(serial)-1])
	if err != nil {
		t.Fatal(err)
	}
	var p frame.Packet
	if err := frame.Parse(&p, raw); err != nil {
		t.Fatal(err)
	}
	f := p.Frame
	f.Data = append([]byte(nil), f.Data...)
	f.Data[100] ^= 1
	pkt, err := frame.AppendFrame(nil, &f)
	if err != nil {
		t.Fatal(err)
	}
	return frame.AppendSerial(nil, pkt)
}

// TestSocatRunDeliversEverything runs the whole harness once on a real
// pty with socat and one consumer: every sample arrives, none is wrong.
func TestSocatRunDeliversEverything(t *testing.T) {
	if testing.Short() {
		t.Skip("starts socat on a pty (about 1 s)")
	}
	if _, err := exec.LookPath("socat"); err != nil {
		t.Skip("socat not installed")
	}
	e := &env{tmp: t.TempDir()}
	var socat system
	for _, s := range allSystems() {
		if s.name == "socat" {
			socat = s
		}
	}
	w := workload{name: "48k", rate: 48000, frameSamples: 480, duration: 500 * time.Millisecond}
	r := runOnce(context.Background(), e, socat, w, 1, 0)
	if len(r.errs) > 0 {
		t.Fatalf("errors: %v", r.errs)
	}
	if r.written.frames != 50 || r.expected != 50*480 || r.lost != 0 || r.badFrames != 0 {
		t.Fatalf("written %d frames, expected %d samples, lost %d, bad %d; want 50, 24000, 0, 0",
			r.written.frames, r.expected, r.lost, r.badFrames)
	}
	if r.lat.n != 50 {
		t.Fatalf("latency samples %d, want 50", r.lat.n)
	}
}
