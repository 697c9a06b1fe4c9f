package adcsim

import "github.com/spf13/pflag"

// BindFlags binds c's settings to f under the names `wsbridge sim` gives
// them, each prefixed with prefix (serve's are sim-: --sim-rate). It is
// the one binding of the simulator's flags: `wsbridge sim`, `wsbridge
// serve --sim` and serve's device specs (sim:rate=48000) all use it, so a
// setting reads and fails the same everywhere. The unplug faults need a
// real port and are bound by `wsbridge sim` only.
func BindFlags(f *pflag.FlagSet, c *Config, prefix string) {
	help := func(s string) string {
		if prefix != "" {
			return "simulator: " + s
		}
		return s
	}
	f.StringVar(&c.Signal, prefix+"signal", c.Signal, help("sine, square, saw, noise, chirp, counter or wav:FILE (16-bit PCM, looped)"))
	f.Uint32Var(&c.Rate, prefix+"rate", c.Rate, help("sample rate in Hz per channel, 1..2000000 (wav: default is the file's rate)"))
	f.IntVar(&c.Channels, prefix+"channels", c.Channels, help("number of channels, 1..255"))
	f.Float64Var(&c.Freq, prefix+"freq", c.Freq, help("signal frequency in Hz (chirp: start frequency)"))
	f.Float64Var(&c.Amplitude, prefix+"amplitude", c.Amplitude, help("amplitude as a fraction of full scale, 0..1"))
	f.IntVar(&c.FrameSamples, prefix+"frame-samples", c.FrameSamples, help("sample instants per frame; 0 = 10 ms worth"))
	f.StringVar(&c.SampleType, prefix+"sample-type", c.SampleType, help("u16 (12-bit ADC word), i16, i32 (24-bit) or f32"))
	f.StringVar(&c.Wire, prefix+"wire", c.Wire, help("output: frames (COBS-framed wsbridge packets), text (one line per sample instant) or plotter (text labelled as for the Serial Plotter, sine0:v,sine1:v)"))
	f.IntVar(&c.Baud, prefix+"baud", c.Baud, help("pace output to what a UART at this baud carries (baud/10 bytes/s); 0 = unlimited"))
	f.DurationVar(&c.MaxLag, prefix+"max-lag", c.MaxLag, help("drop frames once output falls this far behind real time"))
	f.StringVar(&c.Name, prefix+"name", c.Name, help("device name in the info packet"))
	f.Uint64Var(&c.Seed, prefix+"seed", c.Seed, help("random seed for noise and faults; 0 = random (logged)"))
	f.BoolVar(&c.BootGarbage, prefix+"boot-garbage", c.BootGarbage, help("fault: start with a burst of ESP32 ROM boot-log noise"))
	f.Float64Var(&c.CorruptRate, prefix+"corrupt-rate", c.CorruptRate, help("fault: flip each output byte with this probability"))
}
