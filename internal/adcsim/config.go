package adcsim

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/wsbridge/wsbridge/internal/frame"
	"github.com/wsbridge/wsbridge/internal/sentinel"
)

// Limits of the simulated device.
const (
	MaxRate     = 2_000_000 // the ESP32 ADC's DMA maximum
	MaxChannels = 255
)

// Wire formats of the device's output.
const (
	WireFrames  = "frames"  // COBS-framed v1 packets (internal/frame)
	WireText    = "text"    // one line of comma-separated numbers per sample instant
	WirePlotter = "plotter" // text in the Serial Plotter form, "sine0:v0,sine1:v1"
)

// Config describes the simulated device. Field comments name the `wsbridge
// sim` flag that sets each one; Validate reports errors by that name.
type Config struct {
	Signal       string        // --signal: sine, square, saw, noise, chirp, counter or wav:FILE
	Rate         uint32        // --rate: samples per second per channel; 0 only with wav: the file's rate
	Channels     int           // --channels: 1..255
	Freq         float64       // --freq: Hz of sine, square, saw; start of chirp
	Amplitude    float64       // --amplitude: fraction of full scale, 0..1
	FrameSamples int           // --frame-samples: sample instants per frame; 0 = 10 ms worth
	SampleType   string        // --sample-type: u16, i16, i32 or f32
	Wire         string        // --wire: frames, text or plotter
	Baud         int           // --baud: pace output to what a UART at this baud carries (bytes/s = baud/10); 0 = unlimited
	MaxLag       time.Duration // --max-lag: how far output may fall behind real time before frames are dropped
	Name         string        // --name: device name in the info packet
	Seed         uint64        // --seed: for noise and faults; 0 = random (logged)

	BootGarbage bool          // --boot-garbage: ROM-style noise burst at start
	CorruptRate float64       // --corrupt-rate: probability that each output byte is flipped
	UnplugEvery time.Duration // --unplug-every: detach the port after this long attached (pty only)
	UnplugPause time.Duration // --unplug-pause: how long the port stays away

	Log zerolog.Logger `json:"-"` // diagnostics; the zero value logs nothing
}

// DefaultConfig is the configuration `wsbridge sim` starts from.
func DefaultConfig() Config {
	return Config{
		Signal: "sine", Rate: 16000, Channels: 1, Freq: 440, Amplitude: 0.5,
		SampleType: "i16", Wire: WireFrames, MaxLag: time.Second, Name: "wsbridge-sim",
		UnplugPause: 2 * time.Second, Log: zerolog.Nop(),
	}
}

// Validate checks every field and returns all problems, each naming its
// field the way the flag does: `rate: must be 1..2000000 Hz, got 0`.
func (c *Config) Validate() error {
	var errs []error
	add := func(field, format string, a ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", field, fmt.Sprintf(format, a...)))
	}
	c.validateSignal(add)
	if c.Channels < 1 || c.Channels > MaxChannels {
		add("channels", "must be 1..%d, got %d", MaxChannels, c.Channels)
	}
	if _, err := frame.ParseSampleType(c.SampleType); err != nil {
		add("sample-type", "want u16, i16, i32 or f32, got %q", c.SampleType)
	} else if c.Channels >= 1 && c.Channels <= MaxChannels {
		c.validateFrameSamples(add)
	}
	if c.Wire != WireFrames && c.Wire != WireText && c.Wire != WirePlotter {
		add("wire", "want frames, text or plotter, got %q", c.Wire)
	}
	c.validateNumbers(add)
	c.validateFaults(add)
	if err := errors.Join(errs...); err != nil {
		return sentinel.Tag(err, ErrConfig)
	}
	return nil
}

type addFunc func(field, format string, a ...any)

func (c *Config) validateSignal(add addFunc) {
	kind, file, isWav := strings.Cut(c.Signal, ":")
	switch {
	case isWav && kind == "wav" && file == "":
		add("signal", "wav: needs a file name, as in wav:voice.wav")
	case isWav && kind == "wav":
	case isWav || !knownSignal(kind):
		add("signal", "want sine, square, saw, noise, chirp, counter or wav:FILE, got %q", c.Signal)
	}
	if c.Rate > MaxRate || c.Rate == 0 && !(isWav && kind == "wav") {
		add("rate", "must be 1..%d Hz, got %d", MaxRate, c.Rate)
	}
}

func knownSignal(s string) bool {
	switch s {
	case "sine", "square", "saw", "noise", "chirp", "counter":
		return true
	}
	return false
}

func (c *Config) validateFrameSamples(add addFunc) {
	st, _ := frame.ParseSampleType(c.SampleType)
	maxN := maxFrameSamples(c.Channels, st)
	if c.FrameSamples < 0 || c.FrameSamples > maxN {
		add("frame-samples", "must be 0 (auto) or 1..%d for %d channels of %s, got %d", maxN, c.Channels, st, c.FrameSamples)
	}
}

func (c *Config) validateNumbers(add addFunc) {
	if !(c.Freq >= 0) || math.IsInf(c.Freq, 0) {
		add("freq", "must be 0 or more Hz, got %g", c.Freq)
	}
	if !(c.Amplitude >= 0 && c.Amplitude <= 1) {
		add("amplitude", "must be 0..1 (fraction of full scale), got %g", c.Amplitude)
	}
	if c.Baud < 0 || c.Baud > 100_000_000 {
		add("baud", "must be 0 (unpaced) or 1..100000000, got %d", c.Baud)
	}
	if c.MaxLag <= 0 {
		add("max-lag", "must be more than 0, got %s", c.MaxLag)
	}
	if len(c.Name) > 255 {
		add("name", "must be at most 255 bytes, got %d", len(c.Name))
	}
}

func (c *Config) validateFaults(add addFunc) {
	if !(c.CorruptRate >= 0 && c.CorruptRate <= 1) {
		add("corrupt-rate", "must be a probability 0..1, got %g", c.CorruptRate)
	}
	if c.UnplugEvery < 0 {
		add("unplug-every", "must be 0 (never) or a positive duration, got %s", c.UnplugEvery)
	}
	if c.UnplugPause < 0 {
		add("unplug-pause", "must be 0 or a positive duration, got %s", c.UnplugPause)
	}
}
