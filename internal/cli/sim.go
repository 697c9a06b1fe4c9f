package cli

import (
	"errors"
	"strings"

	"github.com/spf13/cobra"

	"github.com/wsbridge/wsbridge/internal/adcsim"
	"github.com/wsbridge/wsbridge/internal/sentinel"
	"github.com/wsbridge/wsbridge/internal/wifisim"
)

func newSim(g *globals, s Streams) *cobra.Command {
	o := adcsim.Options{Config: adcsim.DefaultConfig()}
	p := wifisim.DefaultOptions()
	cmd := &cobra.Command{
		Use:   "sim",
		Short: "A simulated ESP32 on a virtual serial port, or on Wi-Fi (--publish)",
		Long: `sim is a simulated ESP32 ADC. It creates a virtual serial port (a pty in raw
mode), prints its name, and writes samples of a test signal to it in real time,
as wsbridge frames or as Arduino-style text lines. It answers the commands
"rate N", "start", "stop" and "info" written to the port, and can inject the
faults of real hardware: boot garbage, corrupted bytes, USB unplugs.

  wsbridge sim --link /tmp/ttySIM --signal counter --rate 16000 --wire text
  timeout 2 cat /tmp/ttySIM | head

With --publish it is an ESP32 on Wi-Fi instead: it connects to serve's
/pub/NAME endpoint and publishes there, keeping its recent frames in a resend
ring so that a dropped connection loses nothing (docs/protocol.md):

  WSBRIDGE_TOKEN=... wsbridge sim --publish ws://127.0.0.1:8080/pub/garden --signal counter --cut-every 3s

See docs/sim.md.`,
		Args: cobra.NoArgs,
		PreRun: func(cmd *cobra.Command, _ []string) { // before RunE and --check alike
			if cmd.Flags().Changed("signal") && !cmd.Flags().Changed("rate") && strings.HasPrefix(o.Signal, "wav:") {
				o.Rate = 0 // the file's rate
			}
		},
		RunE: func(cmd *cobra.Command, _ []string) error {
			if p.URL != "" {
				return runPublish(cmd.Context(), g, s, o, p)
			}
			o.Out, o.Log, o.JSON = s.Out, g.log, g.JSON
			return classifySim(adcsim.Serve(cmd.Context(), o))
		},
	}
	bindSimFlags(cmd, &o)
	bindPublishFlags(cmd, &p)
	addCheck(cmd, s, func() error { // as Serve would: the settings, and the wav file if any
		if p.URL != "" {
			p.Device = o.Config
			_, err := wifisim.New(p)
			return err
		}
		_, err := adcsim.NewDevice(o.Config)
		return err
	})
	return cmd
}

func bindSimFlags(cmd *cobra.Command, o *adcsim.Options) {
	f := cmd.Flags()
	f.StringVar(&o.Signal, "signal", o.Signal, "sine, square, saw, noise, chirp, counter or wav:FILE (16-bit PCM, looped)")
	f.Uint32Var(&o.Rate, "rate", o.Rate, "sample rate in Hz per channel, 1..2000000 (wav: default is the file's rate)")
	f.IntVar(&o.Channels, "channels", o.Channels, "number of channels, 1..255")
	f.Float64Var(&o.Freq, "freq", o.Freq, "signal frequency in Hz (chirp: start frequency)")
	f.Float64Var(&o.Amplitude, "amplitude", o.Amplitude, "amplitude as a fraction of full scale, 0..1")
	f.IntVar(&o.FrameSamples, "frame-samples", o.FrameSamples, "sample instants per frame; 0 = 10 ms worth")
	f.StringVar(&o.SampleType, "sample-type", o.SampleType, "u16 (12-bit ADC word), i16, i32 (24-bit) or f32")
	f.StringVar(&o.Wire, "wire", o.Wire, "output: frames (COBS-framed wsbridge packets), text (one line per sample instant) or plotter (text labelled as for the Serial Plotter, sine0:v,sine1:v)")
	f.IntVar(&o.Baud, "baud", o.Baud, "pace output to what a UART at this baud carries (baud/10 bytes/s); 0 = unlimited")
	f.DurationVar(&o.MaxLag, "max-lag", o.MaxLag, "drop frames once output falls this far behind real time")
	f.StringVar(&o.Link, "link", o.Link, "create a symlink to the pty here (e.g. /tmp/ttySIM); removed on exit")
	f.BoolVar(&o.Stdout, "stdout", o.Stdout, "write to stdout instead of a pty")
	f.StringVar(&o.Name, "name", o.Name, "device name in the info packet")
	f.Uint64Var(&o.Seed, "seed", o.Seed, "random seed for noise and faults; 0 = random (logged)")
	f.BoolVar(&o.BootGarbage, "boot-garbage", o.BootGarbage, "fault: start with a burst of ESP32 ROM boot-log noise")
	f.Float64Var(&o.CorruptRate, "corrupt-rate", o.CorruptRate, "fault: flip each output byte with this probability")
	f.DurationVar(&o.UnplugEvery, "unplug-every", o.UnplugEvery, "fault: remove the pty after this long, as a USB unplug does; 0 = never")
	f.DurationVar(&o.UnplugPause, "unplug-pause", o.UnplugPause, "fault: how long the port stays unplugged")
}

// classifySim tags configuration errors as usage errors and port errors as
// device errors.
func classifySim(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, adcsim.ErrConfig) {
		return sentinel.Tag(err, ErrUsage)
	}
	return sentinel.Tag(err, ErrDevice)
}
