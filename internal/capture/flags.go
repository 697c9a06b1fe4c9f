package capture

import "github.com/spf13/pflag"

// BindFlags binds the settings that choose and set up the serial device
// to f: serve's --port, --baud, ... and the keys of a device in serve's
// config (devices: - port: ..., baud: ...), which are parsed by these
// flags so that a value reads and fails the same from everywhere.
func BindFlags(fs *pflag.FlagSet, o *Options) {
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
