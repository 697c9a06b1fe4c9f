package capture

import (
	"testing"

	"github.com/wsbridge/wsbridge/internal/adcsim"
	"github.com/wsbridge/wsbridge/internal/frame"
)

func simCounter(wire string) *adcsim.Config {
	cfg := adcsim.DefaultConfig()
	cfg.Signal, cfg.Rate, cfg.Channels, cfg.SampleType, cfg.Wire = "counter", 48000, 2, "i16", wire
	return &cfg
}

// checkSimCounter asserts the simulator's counter: sample at running index
// i on channel c is int16(i + c), with no index skipped.
func checkSimCounter(t *testing.T, frames []frame.Frame) {
	t.Helper()
	i := 0
	for k, f := range frames {
		if f.Seq != uint32(k) {
			t.Fatalf("frame %d has seq %d", k, f.Seq)
		}
		for j := 0; j < int(f.Count); j++ {
			for c := 0; c < int(f.Channels); c++ {
				if got, want := f.Int(j, c), int64(int16(i+c)); got != want {
					t.Fatalf("frame %d sample %d ch %d = %d, want %d", k, j, c, got, want)
				}
			}
			i++
		}
	}
}

func TestSimFramesThroughCapture(t *testing.T) {
	c, rec := start(t, Options{Sim: simCounter(adcsim.WireFrames)})
	rec.waitFor(t, "50 frames", func() bool { return len(rec.frames()) >= 50 })
	checkSimCounter(t, rec.frames()[:50])
	if got := detected(rec); got != InputFrames {
		t.Fatalf("detected %q", got)
	}
	if err := c.Command("info"); err != nil {
		t.Fatal(err)
	}
	rec.waitFor(t, "two info packets (start, command)", func() bool {
		rec.mu.Lock()
		defer rec.mu.Unlock()
		n := 0
		for _, p := range rec.packets {
			if p.Type == frame.TypeInfo {
				n++
			}
		}
		return n >= 2
	})
	if s := statsWhen(t, c, framesAtLeast(50)); s.Port != "sim" || s.NoiseBytes != 0 {
		t.Fatalf("stats %+v", s)
	}
}

func TestSimTextThroughCapture(t *testing.T) {
	c, rec := start(t, Options{Sim: simCounter(adcsim.WireText)})
	rec.waitFor(t, "2000 samples", func() bool {
		n := 0
		for _, f := range rec.frames() {
			n += int(f.Count)
		}
		return n >= 2000
	})
	if got := detected(rec); got != InputText {
		t.Fatalf("detected %q", got)
	}
	checkSimCounter(t, rec.frames())
	if s := statsWhen(t, c, framesAtLeast(1)); s.NoiseBytes != 0 {
		t.Fatalf("stats %+v", s)
	}
}
