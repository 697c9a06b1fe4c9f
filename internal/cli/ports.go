package cli

import (
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/wsbridge/wsbridge/internal/capture"
	"github.com/wsbridge/wsbridge/internal/sentinel"
)

func newPorts(g *globals, s Streams) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "ports",
		Short: "List serial ports and mark likely ESP32 boards",
		Long: `List the serial ports with their USB identity (VID:PID), serial number,
manufacturer and product, and mark the USB-serial bridges found on ESP32
boards (CP210x, CH340, CH9102, FTDI, ESP32 native USB).

Use the path with serve --port, or the identity with serve --match VID:PID[:SERIAL]
to follow the board when it comes back under another name.`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			return sentinel.Tag(capture.ReportPorts(s.Out, g.JSON), ErrDevice)
		},
	}
	return cmd
}

// addPortFlags binds the flags that choose and set up the serial device to
// o (serve uses them; see docs/capture.md). Start o from
// capture.DefaultOptions() so that --help shows the defaults. The names
// double as config keys and WSBRIDGE_* variables.
func addPortFlags(fs *pflag.FlagSet, o *capture.Options) {
	fs.StringVar(&o.Port, "port", o.Port, "serial device, e.g. /dev/ttyUSB0 or /dev/serial/by-id/...; empty: the one ESP32 board present (see wsbridge ports)")
	fs.StringVar(&o.Match, "match", o.Match, "find the device by USB identity VID:PID[:SERIAL] (e.g. 10c4:ea60), and again after a replug under a new path")
	fs.IntVar(&o.Baud, "baud", o.Baud, "baud rate (ignored by ESP32 native USB)")
	fs.IntVar(&o.DataBits, "data-bits", o.DataBits, "data bits: 5, 6, 7 or 8")
	fs.StringVar(&o.Parity, "parity", o.Parity, "parity: none, odd, even, mark or space")
	fs.StringVar(&o.StopBits, "stop-bits", o.StopBits, "stop bits: 1, 1.5 or 2")
	fs.StringVar(&o.DTR, "dtr", o.DTR, "DTR at open: auto (off; on for ESP32 native USB), on, off or keep")
	fs.StringVar(&o.RTS, "rts", o.RTS, "RTS at open: auto (off; on for ESP32 native USB), on, off or keep")
	fs.StringVar(&o.Input, "input", o.Input, "what the device sends: auto, frames (COBS v1 packets) or text (lines of numbers)")
	fs.IntVar(&o.FrameSamples, "text-frame-samples", o.FrameSamples, "text input: lines per frame at most (a frame also ends with each read)")
	fs.Uint32Var(&o.TextRate, "text-rate", o.TextRate, "text input: sample rate to announce in Hz; 0 measures it from the line arrivals (announced after 2 s)")
}
