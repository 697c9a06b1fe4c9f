package adcsim

import (
	"encoding/binary"
	"errors"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/rs/zerolog"

	"github.com/wsbridge/wsbridge/internal/frame"
	"github.com/wsbridge/wsbridge/internal/testsupport"
)

// writeWAV writes a 16-bit PCM file with interleaved samples.
func writeWAV(t *testing.T, rate uint32, channels int, samples []int16) string {
	t.Helper()
	data := make([]byte, 2*len(samples))
	for i, s := range samples {
		binary.LittleEndian.PutUint16(data[2*i:], uint16(s))
	}
	var b []byte
	b = append(b, "RIFF"...)
	b = binary.LittleEndian.AppendUint32(b, uint32(36+len(data)))
	b = append(b, "WAVEfmt "...)
	b = binary.LittleEndian.AppendUint32(b, 16)
	b = binary.LittleEndian.AppendUint16(b, 1)
	b = binary.LittleEndian.AppendUint16(b, uint16(channels))
	b = binary.LittleEndian.AppendUint32(b, rate)
	b = binary.LittleEndian.AppendUint32(b, rate*uint32(channels)*2)
	b = binary.LittleEndian.AppendUint16(b, uint16(channels*2))
	b = binary.LittleEndian.AppendUint16(b, 16)
	b = append(b, "LIST"...) // a chunk to skip
	b = binary.LittleEndian.AppendUint32(b, 3)
	b = append(b, 'a', 'b', 'c', 0)
	b = append(b, "data"...)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(data)))
	b = append(b, data...)
	path := filepath.Join(t.TempDir(), "s.wav")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// nextFrame generates the next frame without pacing and decodes it.
func nextFrame(t *testing.T, d *Device) frame.Frame {
	t.Helper()
	d.out, d.pend.frames = d.out[:0], d.pend.frames[:0]
	if err := d.appendFrame(); err != nil {
		t.Fatal(err)
	}
	var p frame.Packet
	pkt, err := frame.DecodeCOBS(nil, d.out[:len(d.out)-1])
	if err == nil {
		err = frame.Parse(&p, pkt)
	}
	if err != nil {
		t.Fatal(err)
	}
	return p.Clone().Frame
}

func TestWAVLoopsAtFileRate(t *testing.T) {
	// Stereo, 3 frames: L = 100, -200, 32767; R = 1, 2, 3.
	path := writeWAV(t, 8000, 2, []int16{100, 1, -200, 2, 32767, 3})
	cfg := DefaultConfig()
	cfg.Signal, cfg.Rate, cfg.Channels, cfg.FrameSamples = "wav:"+path, 0, 3, 4
	d, err := NewDevice(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if d.Rate() != 8000 {
		t.Fatalf("rate %d, want the file's 8000", d.Rate())
	}
	f1, f2 := nextFrame(t, d), nextFrame(t, d)
	want := [][3]int64{{100, 1, 100}, {-200, 2, -200}, {32767, 3, 32767}, {100, 1, 100}, {-200, 2, -200}}
	for i, w := range want {
		f, j := &f1, i
		if i >= 4 {
			f, j = &f2, i-4
		}
		for c := 0; c < 3; c++ {
			if got := f.Int(j, c); got != w[c] {
				t.Fatalf("sample %d channel %d = %d, want %d", i, c, got, w[c])
			}
		}
	}
	if f1.Rate != 8000 || f2.TimeUS != 500 {
		t.Fatalf("rate %d, second frame at %d µs", f1.Rate, f2.TimeUS)
	}
}

func TestWAVExplicitRateAndTypes(t *testing.T) {
	path := writeWAV(t, 44100, 1, []int16{-32768, 16})
	for _, tc := range []struct {
		st   string
		want [2]float64
	}{{"u16", [2]float64{0, 2049}}, {"i32", [2]float64{-8388608, 4096}}, {"f32", [2]float64{-1, 16.0 / 32768}}} {
		cfg := DefaultConfig()
		cfg.Signal, cfg.Rate, cfg.SampleType, cfg.FrameSamples = "wav:"+path, 1000, tc.st, 2
		d, err := NewDevice(cfg)
		if err != nil {
			t.Fatal(err)
		}
		f := nextFrame(t, d)
		if f.Rate != 1000 || f.Float(0, 0) != tc.want[0] || f.Float(1, 0) != tc.want[1] {
			t.Errorf("%s: rate %d samples %v %v, want %v", tc.st, f.Rate, f.Float(0, 0), f.Float(1, 0), tc.want)
		}
	}
}

func TestWAVErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.wav")
	os.WriteFile(bad, []byte("RIFF\x00\x00\x00\x00WAVEfmt \x10\x00\x00\x00\x01\x00\x01\x00\x40\x1f\x00\x00\x40\x1f\x00\x00\x01\x00\x08\x00"), 0o644)
	for path, want := range map[string]string{
		filepath.Join(dir, "none.wav"): "signal: failed to open wav file: stat " + filepath.Join(dir, "none.wav") + ": no such file or directory",
		bad:                            "signal: " + bad + ": want 16-bit PCM, got format 1 with 8 bits per sample",
	} {
		cfg := DefaultConfig()
		cfg.Signal = "wav:" + path
		_, err := NewDevice(cfg)
		if err == nil || err.Error() != want || !errors.Is(err, ErrConfig) {
			t.Errorf("got %v\nwant %s", err, want)
		}
	}
}

// TestSignalsStayInRange generates 0.2 s of every analogue signal at
// full amplitude and checks the range and that it is not flat.
func TestSignalsStayInRange(t *testing.T) {
	for _, sig := range []string{"sine", "square", "saw", "noise", "chirp"} {
		for _, st := range []string{"u16", "i16", "i32", "f32"} {
			cfg := DefaultConfig()
			cfg.Signal, cfg.SampleType, cfg.Amplitude, cfg.Seed, cfg.Channels = sig, st, 1, 3, 2
			d, err := NewDevice(cfg)
			if err != nil {
				t.Fatal(err)
			}
			lo, hi := math.Inf(1), math.Inf(-1)
			for k := 0; k < 20; k++ { // 0.2 s
				f := nextFrame(t, d)
				for j := 0; j < int(f.Count); j++ {
					v := f.Float(j, 1)
					lo, hi = math.Min(lo, v), math.Max(hi, v)
				}
			}
			fs := map[string][2]float64{"u16": {0, 4095}, "i16": {-32767, 32767}, "i32": {-8388607, 8388607}, "f32": {-1, 1}}[st]
			if lo < fs[0] || hi > fs[1] || hi-lo < 0.9*(fs[1]-fs[0]) {
				t.Errorf("%s %s: range %v..%v, want most of %v", sig, st, lo, hi, fs)
			}
		}
	}
}

func TestSineFrequency(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Signal, cfg.Freq, cfg.Rate = "sine", 50, 1000
	d, _ := NewDevice(cfg)
	crossings, prev := 0, 0.0
	for k := 0; k < 100; k++ { // one second
		f := nextFrame(t, d)
		for j := 0; j < int(f.Count); j++ {
			v := f.Float(j, 0)
			if prev < 0 && v >= 0 {
				crossings++
			}
			prev = v
		}
	}
	if crossings < 49 || crossings > 51 {
		t.Fatalf("%d rising zero crossings in 1 s of a 50 Hz sine", crossings)
	}
}

// TestSawAtTheDocsRate: docs/sim.md's saw at --rate 100 --freq 2 is a ramp
// of 50 rising samples per period; the default 440 Hz at that rate would
// alias, and the simulator says so.
func TestSawAtTheDocsRate(t *testing.T) {
	var log testsupport.SyncBuffer
	cfg := DefaultConfig()
	cfg.Signal, cfg.Rate, cfg.Freq, cfg.Log = "saw", 100, 2, zerolog.New(&log)
	d, err := NewDevice(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var v []float64
	for len(v) < 100 {
		f := nextFrame(t, d)
		for j := 0; j < int(f.Count); j++ {
			v = append(v, f.Float(j, 0))
		}
	}
	for i := 1; i < 100; i++ {
		if rising := v[i] > v[i-1]; rising != (i%50 != 0) {
			t.Fatalf("sample %d: %v after %v; want a ramp restarting every 50 samples", i, v[i], v[i-1])
		}
	}
	if w := log.LogEntries("aliases"); len(w) != 0 {
		t.Errorf("warned about aliasing at 2 Hz: %v", w)
	}
	cfg.Freq = 440
	if _, err := NewDevice(cfg); err != nil {
		t.Fatal(err)
	}
	want := "freq 440 Hz is not below half the rate (50 Hz): the saw signal aliases; choose freq below 50 Hz or a higher rate"
	if w := log.LogEntries("aliases"); len(w) != 1 || w[0]["message"] != want || w[0]["level"] != "warn" {
		t.Errorf("at 440 Hz: %v, want one warning %q", w, want)
	}
}
