package adcsim

import (
	"bufio"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wsbridge/wsbridge/internal/frame"
	"github.com/wsbridge/wsbridge/internal/testsupport"
)

// TestCounterTextConsecutive reads one second's worth of lines (16000) from
// the pty, text wire, and checks every line: consecutive integers from 0,
// wrapping as int16, with nothing missing or repeated.
func TestCounterTextConsecutive(t *testing.T) {
	r := startRig(t, counterConfig(WireText, 16000))
	sc := bufio.NewScanner(r.slave)
	r.slave.SetReadDeadline(time.Now().Add(10 * time.Second))
	if !sc.Scan() || !strings.HasPrefix(sc.Text(), "# info ") {
		t.Fatalf("first line %q, want the device info line", sc.Text())
	}
	start := time.Now()
	n := 0
	for ; n < 16000 && sc.Scan(); n++ {
		v, err := strconv.Atoi(sc.Text())
		if err != nil {
			t.Fatalf("line %d: %q is not an integer", n, sc.Text())
		}
		if want := int(int16(n)); v != want {
			t.Fatalf("line %d: %d, want %d", n, v, want)
		}
	}
	if n < 16000 {
		t.Fatalf("only %d lines: %v", n, sc.Err())
	}
	t.Logf("%d consecutive values in %v", n, time.Since(start))
}

// TestFramesWireDecodesClean runs every sample type with three channels
// and checks the decoder saw nothing wrong and every sample is the counter.
func TestFramesWireDecodesClean(t *testing.T) {
	for _, st := range []string{"u16", "i16", "i32", "f32"} {
		t.Run(st, func(t *testing.T) {
			cfg := counterConfig(WireFrames, 16000)
			cfg.SampleType, cfg.Channels = st, 3
			r := startRig(t, cfg)
			rec := newRecorder()
			pumped := pump(r.slave, rec)
			testsupport.WaitFor(t, 10*time.Second, "20 frames", func() bool { return len(rec.frames()) >= 20 })
			r.drain(t, pumped)
			ps, s := rec.snapshot()
			if s.NoiseBytes != 0 || s.CRCErrors != 0 || s.Malformed != 0 || rec.seqEvents() != 0 {
				t.Fatalf("decoder stats %+v, seq events %v", s, rec.got.Events)
			}
			if ps[0].Type != frame.TypeInfo || ps[0].Info.Rate != 16000 || ps[0].Info.Channels != 3 || ps[0].Info.SampleType.String() != st {
				t.Fatalf("first packet %+v, want the device info", ps[0])
			}
			fs := rec.frames()
			if len(fs) < 10 || fs[0].Seq != 0 {
				t.Fatalf("%d frames, first seq %d", len(fs), fs[0].Seq)
			}
			checkCounterFrames(t, fs, 0)
			if ds := r.dev.Stats(); ds.Sent != uint64(len(fs)) || ds.Dropped != 0 || ds.Bytes != s.Bytes {
				t.Fatalf("device sent %d frames %d bytes, reader got %d frames %d bytes (%+v)", ds.Sent, ds.Bytes, len(fs), s.Bytes, ds)
			}
		})
	}
}

// TestPacingRate checks that samples arrive at the configured rate, not a
// multiple of it: the arrival time of each frame is compared with when its
// samples are due (samples before it / rate), and the earliest arrivals at
// the start and the end of a 1.5 s window give the rate the reader sees,
// which must be within 25% of the configured one. Taking the earliest of
// ten frames ignores stalls of the reading goroutine. How close the pacing
// is (drift) is a figure: logged here, measured by BenchmarkPacing.
func TestPacingRate(t *testing.T) {
	if testing.Short() {
		t.Skip("timing test")
	}
	const rate = 8000
	r := startRig(t, counterConfig(WireFrames, rate))
	rec := newRecorder()
	pumped := pump(r.slave, rec)
	time.Sleep(1700 * time.Millisecond)
	r.drain(t, pumped)
	drift, span := pacingDrift(rec, rate)
	checkRate(t, "samples/s", rate, drift, span)
}

// checkRate fails unless a stream that should take span at want units/s,
// and arrived drift later than that, ran within 25% of want; it logs the
// drift.
func checkRate(t *testing.T, unit string, want float64, drift, span time.Duration) {
	t.Helper()
	got := want * span.Seconds() / (span + drift).Seconds()
	if span <= 0 || span+drift <= 0 || got < 0.75*want || got > 1.25*want {
		t.Fatalf("%.0f %s arrived (drift %v over %v), want about %.0f", got, unit, drift, span, want)
	}
	t.Logf("%.1f %s: drift %v over %v (%.0f ppm)", got, unit, drift, span, 1e6*drift.Seconds()/span.Seconds())
}

// pacingDrift is how much later (positive) the frames at the end of the
// window arrive, relative to their due times (from their seq, so a dropped
// frame does not shift the rest), than those at its start: the earliest of
// the last third against the earliest of the first third, so a stall of
// the reader or the device shorter than a third of the window cannot move
// it.
func pacingDrift(rec *recorder, rate float64) (drift, span time.Duration) {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	var first time.Time
	var seq0 uint32
	var lat []time.Duration
	for k, p := range rec.got.Packets {
		if p.Type != frame.TypeData || rec.arrival[k].Sub(rec.arrival[0]) < 200*time.Millisecond {
			continue
		}
		if first.IsZero() {
			first, seq0 = rec.arrival[k], p.Frame.Seq
		}
		due := time.Duration(float64(p.Frame.Seq-seq0) * float64(p.Frame.Count) / rate * 1e9)
		lat = append(lat, rec.arrival[k].Sub(first)-due)
		span = rec.arrival[k].Sub(first)
	}
	if len(lat) < 20 {
		return time.Hour, span
	}
	g := max(10, len(lat)/3)
	return slices.Min(lat[len(lat)-g:]) - slices.Min(lat[:g]), span
}

// TestBaudPacing: at 115200 baud the device delivers about 11520 bytes/s
// even though the signal needs about 33 kB/s; the excess is dropped, and
// the decoder sees exactly the gaps the device reports. The byte rate is
// judged like TestPacingRate (within 25%, drift logged).
func TestBaudPacing(t *testing.T) {
	if testing.Short() {
		t.Skip("timing test")
	}
	cfg := counterConfig(WireFrames, 16000)
	cfg.Baud, cfg.MaxLag = 115200, 100*time.Millisecond
	r := startRig(t, cfg)
	rec := newRecorder()
	arr := &arrivals{w: rec}
	pumped := pump(r.slave, arr)
	time.Sleep(1500 * time.Millisecond)
	r.drain(t, pumped)
	drift, span := arr.drift(11520)
	checkRate(t, "bytes/s", 11520, drift, span)
	_, s := rec.snapshot()
	ds := r.dev.Stats()
	lost := checkGaps(t, rec, ds)
	_, seen := rec.loss()
	if ds.Dropped == 0 || seen != lost || s.NoiseBytes != 0 || s.CRCErrors != 0 {
		t.Fatalf("device dropped %d (%d before the last frame), decoder lost %d (%+v)", ds.Dropped, lost, seen, s)
	}
	t.Logf("%d frames dropped, %d of them seen as gaps", ds.Dropped, seen)
}

// arrivals records when each chunk of bytes arrived.
type arrivals struct {
	w     io.Writer
	mu    sync.Mutex
	times []time.Time
	total []int // bytes before this chunk
	n     int
}

func (a *arrivals) Write(b []byte) (int, error) {
	a.mu.Lock()
	a.times, a.total = append(a.times, time.Now()), append(a.total, a.n)
	a.n += len(b)
	a.mu.Unlock()
	return a.w.Write(b)
}

// drift compares chunk arrivals after the first 200 ms with a link of
// perSec bytes/s: the earliest of the last third against the earliest of
// the first third (at least 50 each).
func (a *arrivals) drift(perSec float64) (drift, span time.Duration) {
	a.mu.Lock()
	defer a.mu.Unlock()
	var lat []time.Duration
	k0 := -1
	for k := range a.times {
		if a.times[k].Sub(a.times[0]) < 200*time.Millisecond {
			continue
		}
		if k0 < 0 {
			k0 = k
		}
		due := time.Duration(float64(a.total[k]-a.total[k0]) / perSec * 1e9)
		lat = append(lat, a.times[k].Sub(a.times[k0])-due)
		span = a.times[k].Sub(a.times[k0])
	}
	// As pacingDrift: a busy machine's reader takes the bytes in fewer,
	// larger reads (fewer than 100 in the window is common at load 10),
	// and the earliest arrival of each third still shows the rate.
	if len(lat) < 20 {
		return time.Hour, span
	}
	g := max(10, len(lat)/3)
	return slices.Min(lat[len(lat)-g:]) - slices.Min(lat[:g]), span
}

// TestMaxLagDropsWhileNobodyReads: with no reader the pty fills and writes
// block; the device keeps real time by dropping frames, and a reader that
// comes later sees gaps of exactly the frames the device says it dropped.
func TestMaxLagDropsWhileNobodyReads(t *testing.T) {
	cfg := counterConfig(WireFrames, 48000) // about 100 kB/s
	cfg.MaxLag = 50 * time.Millisecond
	r := startRig(t, cfg)
	time.Sleep(700 * time.Millisecond) // nobody reads: about 16 KiB fit in the pty
	rec := newRecorder()
	pumped := pump(r.slave, rec)
	time.Sleep(300 * time.Millisecond)
	r.drain(t, pumped)
	_, s := rec.snapshot()
	ds := r.dev.Stats()
	lost := checkGaps(t, rec, ds)
	gaps, seen := rec.loss()
	if ds.Dropped == 0 || seen != lost || s.NoiseBytes != 0 {
		t.Fatalf("device dropped %d frames (%d before the last frame), decoder lost %d (%+v)", ds.Dropped, lost, seen, s)
	}
	if uint64(len(rec.frames())) != ds.Sent {
		t.Fatalf("device sent %d frames, reader got %d", ds.Sent, len(rec.frames()))
	}
	t.Logf("dropped %d frames in %d gaps", ds.Dropped, gaps)
}

func ExampleConfig_Validate() {
	cfg := DefaultConfig()
	cfg.Rate = 0
	fmt.Println(cfg.Validate())
	// Output: rate: must be 1..2000000 Hz, got 0
}
