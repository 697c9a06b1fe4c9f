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
	adcsim.BindFlags(f, &o.Config, "")
	f.StringVar(&o.Link, "link", o.Link, "create a symlink to the pty here (e.g. /tmp/ttySIM); removed on exit")
	f.BoolVar(&o.Stdout, "stdout", o.Stdout, "write to stdout instead of a pty")
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
