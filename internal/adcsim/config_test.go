package adcsim

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestDefaultConfigIsValid(t *testing.T) {
	cfg := DefaultConfig()
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestValidateNamesTheField(t *testing.T) {
	cases := []struct {
		set  func(c *Config)
		want string
	}{
		{func(c *Config) { c.Rate = 0 }, "rate: must be 1..2000000 Hz, got 0"},
		{func(c *Config) { c.Rate = 2_000_001 }, "rate: must be 1..2000000 Hz, got 2000001"},
		{func(c *Config) { c.Signal = "triangle" }, `signal: want sine, square, saw, noise, chirp, counter or wav:FILE, got "triangle"`},
		{func(c *Config) { c.Signal = "wav:" }, "signal: wav: needs a file name, as in wav:voice.wav"},
		{func(c *Config) { c.Channels = 0 }, "channels: must be 1..255, got 0"},
		{func(c *Config) { c.SampleType = "u8" }, `sample-type: want u16, i16, i32 or f32, got "u8"`},
		{func(c *Config) { c.Channels, c.SampleType, c.FrameSamples = 2, "i32", 9000 }, "frame-samples: must be 0 (auto) or 1..8188 for 2 channels of i32, got 9000"},
		{func(c *Config) { c.Wire = "csv" }, `wire: want frames, text or plotter, got "csv"`},
		{func(c *Config) { c.Amplitude = 1.5 }, "amplitude: must be 0..1 (fraction of full scale), got 1.5"},
		{func(c *Config) { c.Freq = -1 }, "freq: must be 0 or more Hz, got -1"},
		{func(c *Config) { c.Baud = -9600 }, "baud: must be 0 (unpaced) or 1..100000000, got -9600"},
		{func(c *Config) { c.MaxLag = 0 }, "max-lag: must be more than 0, got 0s"},
		{func(c *Config) { c.CorruptRate = 2 }, "corrupt-rate: must be a probability 0..1, got 2"},
		{func(c *Config) { c.UnplugEvery = -time.Second }, "unplug-every: must be 0 (never) or a positive duration, got -1s"},
		{func(c *Config) { c.Name = strings.Repeat("x", 256) }, "name: must be at most 255 bytes, got 256"},
	}
	for _, tc := range cases {
		cfg := DefaultConfig()
		tc.set(&cfg)
		err := cfg.Validate()
		if err == nil || err.Error() != tc.want {
			t.Errorf("got %v\nwant %s", err, tc.want)
		}
		if !errors.Is(err, ErrConfig) {
			t.Errorf("%v: not a config error", err)
		}
	}
}

func TestValidateReportsEveryProblem(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Rate, cfg.Wire = 0, "x"
	want := "rate: must be 1..2000000 Hz, got 0\nwire: want frames, text or plotter, got \"x\""
	if err := cfg.Validate(); err == nil || err.Error() != want {
		t.Fatalf("got %v\nwant %s", err, want)
	}
}

func TestWAVRateZeroMeansFileRate(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Signal, cfg.Rate = "wav:x.wav", 0
	if err := cfg.Validate(); err != nil {
		t.Fatalf("rate 0 with wav: %v", err)
	}
}

func TestAutoFrameSamplesIsTenMilliseconds(t *testing.T) {
	for _, tc := range []struct {
		rate uint32
		want int
	}{{16000, 160}, {48000, 480}, {50, 1}, {2_000_000, 20000}} {
		cfg := DefaultConfig()
		cfg.Rate = tc.rate
		d, err := NewDevice(cfg)
		if err != nil {
			t.Fatal(err)
		}
		if got := d.FrameSamples(); got != tc.want {
			t.Errorf("rate %d: frame samples %d, want %d", tc.rate, got, tc.want)
		}
	}
}
