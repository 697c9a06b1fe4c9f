//go:build linux

package main

import (
	"context"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/wsbridge/wsbridge/internal/frame"
	"github.com/wsbridge/wsbridge/internal/testenv"
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
	var early []byte
	for k := 0; k < 100; k++ {
		b := s.next(nil, uint64(k)*10000)
		switch k {
		case 0:
			early = b
		case 40: // lost on the way
			continue
		case 70: // one sample changed, CRC recomputed: a bridge that mangles data
			b = corruptSample(t, b)
		}
		d.Write(b)
	}
	d.Write(early) // seq 0 again: a bridge replaying from the start
	if tl.frames != 99 || tl.missing != 1 || tl.dups != 1 || tl.badSamples != 1 {
		t.Fatalf("frames %d missing %d dups %d bad %d, want 99 1 1 1", tl.frames, tl.missing, tl.dups, tl.badSamples)
	}
	if next, _ := tl.seq.Next(); next != 100 {
		t.Fatalf("expects seq %d next after the replayed frame, want 100", next)
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
	testenv.Need(t, "socat", "socat")
	e := &env{tmp: t.TempDir()}
	var socat system
	for _, s := range allSystems() {
		if s.name == "socat" {
			socat = s
		}
	}
	w := workload{name: "48k", rate: 48000, frameSamples: 480, duration: 500 * time.Millisecond, settle: 300 * time.Millisecond}
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

// TestTextTallyAccountsForEveryLine feeds counter lines, split across
// chunks at awkward places, with one line lost, one repeated and one
// garbled, through the raw-byte consumer's line splitter, and one JSON
// frame as wsbridge sends it; the tally says exactly that.
func TestTextTallyAccountsForEveryLine(t *testing.T) {
	w := workload{rate: 1000, duration: time.Second}
	stamps := newLineStamps(w)
	for v := range 20 {
		stamps[v].Store(uint64(1000 + v))
	}
	tl := &tally{stamps: stamps}
	c := &consumer{t: tl}
	now := uint64(0)
	feed := c.streamDecoder(&now)
	in := "0\r\n1\r\n2\r\n4\r\n4\r\n5\r\nx5\r\n6\r\n7\r\n"
	for i := 0; i < len(in); i += 4 {
		now = 2000
		feed([]byte(in[i:min(len(in), i+4)]))
	}
	if tl.frames != 7 || tl.missing != 1 || tl.dups != 1 || tl.badSamples != 1 {
		t.Fatalf("lines %d missing %d dups %d bad %d, want 7 1 1 1", tl.frames, tl.missing, tl.dups, tl.badSamples)
	}
	if next, ok := tl.next(); !ok || next != 8 {
		t.Fatalf("next line %d (%v), want 8", next, ok)
	}
	if tl.lat.n != 7 || tl.lat.max != 1000 { // line 0 written at 1000 µs, received at 2000 µs
		t.Fatalf("latency samples %d max %d, want 7 and 1000", tl.lat.n, tl.lat.max)
	}
	var got []int64
	msg := []byte(`{"type":"frame","seq":3,"rate":1000,"channels":1,"sample_type":"i32","t_dev_us":5,"samples":[[8,9,10]]}`)
	if !jsonFrameValues(msg, func(v int64) { got = append(got, v) }) || !reflect.DeepEqual(got, []int64{8, 9, 10}) {
		t.Fatalf("json frame values %v, want [8 9 10]", got)
	}
	if jsonFrameValues([]byte(`{"type":"frame","samples":[[8,x]]}`), func(int64) {}) {
		t.Fatal("a frame with a non-number was read")
	}
}

// TestReportRatiosAndLosses builds a report from two synthetic runs and
// checks what a reader relies on: the ratio, the loss named, the plot.
func TestReportRatiosAndLosses(t *testing.T) {
	c := &config{reps: 1, consumers: []int{1}, systems: []string{"wsbridge", "ser2net"}, workloads: []string{"48k"},
		out: "docs/benchmarks-peers.md", svg: "docs/img/latency-cdf.svg", command: "go run ./bench --test"}
	mk := func(sys string, cpu float64, lat uint64) runResult {
		r := runResult{system: sys, workload: "48k", consumers: 1, cpuPct: cpu, hwmMB: 10, expected: 4800}
		for i := 0; i < 100; i++ {
			r.lat.add(lat)
		}
		return r
	}
	runs := []runResult{mk("wsbridge", 4, 500), mk("ser2net", 2, 1000)}
	r := newReport(c, &env{root: t.TempDir()}, runs, nil, time.Second)
	md := r.markdown()
	for _, want := range []string{
		"| CPU % (48k) | 1 | 2.00 |",            // wsbridge uses twice the CPU
		"| latency p50 (48k) | 1 | 0.50 |",      // and half the latency
		"| 48k | 1 | ser2net | CPU % | 4 | 2 |", // the loss is named
		"Generated by `go run ./bench --test`",
		"![latency CDF](img/latency-cdf.svg)",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("report lacks %q", want)
		}
	}
	if strings.Contains(md, "latency p50 µs") {
		t.Errorf("latency listed as a loss although wsbridge is faster:\n%s", md)
	}
	if svg := r.plot(); strings.Count(svg, "<polyline") != 2 {
		t.Errorf("plot has %d lines, want 2", strings.Count(svg, "<polyline"))
	}
}
