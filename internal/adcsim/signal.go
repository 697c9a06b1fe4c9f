package adcsim

import (
	"encoding/binary"
	"math"
	"math/rand/v2"
	"strings"

	"github.com/wsbridge/wsbridge/internal/frame"
)

// source fills frames with samples. Sample instant j of a frame is the
// device's running sample index i+j.
type source interface {
	fill(f *frame.Frame, i uint64)
}

// newSource builds the source for cfg; wav files are loaded here.
func newSource(cfg *Config, rng *rand.Rand) (source, uint32, error) {
	kind, file, _ := strings.Cut(cfg.Signal, ":")
	switch kind {
	case "counter":
		return counter{}, cfg.Rate, nil
	case "wav":
		w, err := loadWAV(file)
		if err != nil {
			return nil, 0, err
		}
		rate := cfg.Rate
		if rate == 0 {
			rate = w.rate
		}
		return w, rate, nil
	}
	return &wave{kind: kind, freq: cfg.Freq, amp: cfg.Amplitude, rng: rng}, cfg.Rate, nil
}

// counter is the loss detector: the sample at running index i on channel c
// is (i + c) modulo the sample type's range (2^24 for f32, whose integers
// are exact up to there).
type counter struct{}

func (counter) fill(f *frame.Frame, i uint64) {
	nch, sz := int(f.Channels), f.SampleType.Size()
	b := f.Data[:int(f.Count)*nch*sz]
	for j, off := 0, 0; j < int(f.Count); j++ {
		for c := 0; c < nch; c++ {
			v := i + uint64(j+c)
			switch f.SampleType {
			case frame.U16, frame.I16:
				binary.LittleEndian.PutUint16(b[off:], uint16(v))
			case frame.I32:
				binary.LittleEndian.PutUint32(b[off:], uint32(v))
			default: // f32: exact integers up to 2^24
				binary.LittleEndian.PutUint32(b[off:], math.Float32bits(float32(v%(1<<24))))
			}
			off += sz
		}
	}
}

// wave is an analogue test signal in -1..1, scaled to the sample type.
// Channel c is shifted by c/channels of a period.
type wave struct {
	kind string
	freq float64
	amp  float64
	rng  *rand.Rand
}

func (w *wave) fill(f *frame.Frame, i uint64) {
	nch := int(f.Channels)
	rate := float64(f.Rate)
	for j := 0; j < int(f.Count); j++ {
		t := float64(i+uint64(j)) / rate
		for c := 0; c < nch; c++ {
			x := w.value(t, float64(c)/float64(nch), rate)
			f.PutFloat(j, c, scale(f.SampleType, x*w.amp))
		}
	}
}

// value is the signal at time t (s) with phase offset ph (periods).
func (w *wave) value(t, ph, rate float64) float64 {
	switch w.kind {
	case "square":
		if math.Sin(2*math.Pi*(w.freq*t+ph)) >= 0 {
			return 1
		}
		return -1
	case "saw":
		p := w.freq*t + ph
		return 2*(p-math.Floor(p)) - 1
	case "noise":
		return 2*w.rng.Float64() - 1
	case "chirp":
		return chirp(t, ph, w.freq, rate)
	}
	return math.Sin(2 * math.Pi * (w.freq*t + ph))
}

// chirp sweeps linearly from f0 to min(10*f0, rate/2) in one second, and
// starts again every second.
func chirp(t, ph, f0, rate float64) float64 {
	f1 := math.Min(10*f0, rate/2)
	tau := t - math.Floor(t)
	return math.Sin(2*math.Pi*(f0*tau+(f1-f0)*tau*tau/2) + 2*math.Pi*ph)
}

// scale maps x in -1..1 to the sample type's full scale: u16 is a 12-bit
// ADC word (0..4095, centred on 2048), i16 16-bit PCM, i32 a 24-bit I2S
// microphone (±8388607), f32 is x itself.
func scale(st frame.SampleType, x float64) float64 {
	switch st {
	case frame.U16:
		return 2048 + x*2047
	case frame.I16:
		return x * 32767
	case frame.I32:
		return x * 8388607
	}
	return x
}
