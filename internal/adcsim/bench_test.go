package adcsim

import (
	"slices"
	"testing"
	"time"
)

// BenchmarkGenerate measures generation and encoding without pacing:
// frames/s and MB/s of wire bytes, one core.
func BenchmarkGenerate(b *testing.B) {
	for _, tc := range []struct {
		name, signal, st, wire string
		channels, fs           int
	}{
		{"counter/i16/1ch/256/frames", "counter", "i16", WireFrames, 1, 256},
		{"counter/i16/2ch/480/frames", "counter", "i16", WireFrames, 2, 480},
		{"sine/i16/1ch/256/frames", "sine", "i16", WireFrames, 1, 256},
		{"sine/f32/4ch/256/frames", "sine", "f32", WireFrames, 4, 256},
		{"counter/i16/1ch/256/text", "counter", "i16", WireText, 1, 256},
	} {
		b.Run(tc.name, func(b *testing.B) {
			cfg := DefaultConfig()
			cfg.Signal, cfg.SampleType, cfg.Wire, cfg.Channels, cfg.FrameSamples, cfg.Seed = tc.signal, tc.st, tc.wire, tc.channels, tc.fs, 1
			d, err := NewDevice(cfg)
			if err != nil {
				b.Fatal(err)
			}
			d.appendFrame()
			b.SetBytes(int64(len(d.out)))
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				d.out, d.pend.frames = d.out[:0], d.pend.frames[:0]
				if err := d.appendFrame(); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "frames/s")
		})
	}
}

// BenchmarkPacing runs a 16 kHz counter on a real pty for 1 s per
// iteration and reports how late frames arrive after their last sample is
// due (p50, p99, max, relative to the earliest) and the drift over the run.
func BenchmarkPacing(b *testing.B) {
	var p50, p99, worst, drift []float64
	for i := 0; i < b.N; i++ {
		r := startRig(b, counterConfig(WireFrames, 16000))
		rec := newRecorder()
		pumped := pump(r.slave, rec)
		time.Sleep(1200 * time.Millisecond)
		r.drain(b, pumped)
		lat := lateness(rec, 16000)
		slices.Sort(lat)
		p50 = append(p50, lat[len(lat)/2])
		p99 = append(p99, lat[len(lat)*99/100])
		worst = append(worst, lat[len(lat)-1])
		d, span := pacingDrift(rec, 16000)
		drift = append(drift, 1e6*d.Seconds()/span.Seconds())
	}
	b.ReportMetric(mean(p50), "late-p50-µs")
	b.ReportMetric(mean(p99), "late-p99-µs")
	b.ReportMetric(mean(worst), "late-max-µs")
	b.ReportMetric(mean(drift), "drift-ppm")
}

func mean(v []float64) float64 {
	s := 0.0
	for _, x := range v {
		s += x
	}
	return s / float64(len(v))
}

// lateness is each frame's arrival minus when it was due, in µs, relative
// to the earliest frame.
func lateness(rec *recorder, rate float64) []float64 {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	var first time.Time
	var lat []float64
	n := 0
	for k, p := range rec.got.Packets {
		if p.Frame.Count == 0 || rec.arrival[k].Sub(rec.arrival[0]) < 200*time.Millisecond {
			continue
		}
		if first.IsZero() {
			first = rec.arrival[k]
		}
		lat = append(lat, float64(rec.arrival[k].Sub(first).Microseconds())-float64(n)/rate*1e6)
		n += int(p.Frame.Count)
	}
	m := slices.Min(lat)
	for i := range lat {
		lat[i] -= m
	}
	return lat
}
