package capture

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/rs/zerolog"
	"go.bug.st/serial"
)

// Input modes.
const (
	InputAuto   = "auto"   // tell frames from text by the first bytes
	InputFrames = "frames" // COBS-framed v1 packets
	InputText   = "text"   // Arduino text lines of numbers
)

// Modem line settings for DTR and RTS at open.
const (
	LineAuto = "auto" // off, except on for Espressif native USB (see docs/capture.md)
	LineOn   = "on"   // asserted
	LineOff  = "off"  // deasserted
	LineKeep = "keep" // left as the operating system sets it on open
)

// Options configure a Capture. The zero value of a field means its default
// (see DefaultOptions); flag names in the CLI match the field names.
type Options struct {
	Port     string // device path; "" picks the one ESP32 board present (or uses Match)
	Baud     int    // default 921600
	DataBits int    // 5..8, default 8
	Parity   string // none, odd, even, mark, space; default none
	StopBits string // 1, 1.5, 2; default 1
	DTR, RTS string // auto, on, off, keep; default auto
	Input    string // auto, frames, text; default auto
	Match    string // VID:PID[:SERIAL]: find (and re-find) the device by USB identity

	// Setting names where the port was given, for hints in errors: "--port"
	// (the default), "--device mic", "devices[1].port". Without says, in the
	// same hints, how to run that device without a board: "use --sim" (the
	// default), "use --device mic=sim", "give devices[1] sim: {...} instead
	// of a port".
	Setting string
	Without string

	// Text input: lines per frame (default 64) and the sample rate to
	// announce (0 measures it from the line arrivals: see frame.TextDecoder).
	FrameSamples int
	TextRate     uint32

	Log zerolog.Logger
}

// DefaultOptions returns the defaults.
func DefaultOptions() Options {
	return Options{Baud: 921600, DataBits: 8, Parity: "none", StopBits: "1",
		DTR: LineAuto, RTS: LineAuto, Input: InputAuto, FrameSamples: 64, Log: zerolog.Nop()}
}

// withDefaults fills zero fields.
func (o Options) withDefaults() Options {
	d := DefaultOptions()
	o.Baud = cmp.Or(o.Baud, d.Baud)
	o.DataBits = cmp.Or(o.DataBits, d.DataBits)
	o.FrameSamples = cmp.Or(o.FrameSamples, d.FrameSamples)
	o.Parity = cmp.Or(o.Parity, d.Parity)
	o.StopBits = cmp.Or(o.StopBits, d.StopBits)
	o.DTR = cmp.Or(o.DTR, d.DTR)
	o.RTS = cmp.Or(o.RTS, d.RTS)
	o.Input = cmp.Or(o.Input, d.Input)
	o.Setting = cmp.Or(o.Setting, "--port")
	o.Without = cmp.Or(o.Without, "use --sim")
	return o
}

var (
	parities = map[string]serial.Parity{"none": serial.NoParity, "odd": serial.OddParity,
		"even": serial.EvenParity, "mark": serial.MarkParity, "space": serial.SpaceParity}
	stopBits = map[string]serial.StopBits{"1": serial.OneStopBit, "1.5": serial.OnePointFiveStopBits,
		"2": serial.TwoStopBits}
	lines  = []string{LineAuto, LineOn, LineOff, LineKeep}
	inputs = []string{InputAuto, InputFrames, InputText}
)

// Validate reports the first invalid field, by its flag name.
func (o Options) Validate() error {
	switch {
	case o.Baud <= 0:
		return fmt.Errorf("invalid baud %d: want a positive rate, e.g. 921600", o.Baud)
	case o.DataBits < 5 || o.DataBits > 8:
		return fmt.Errorf("invalid data-bits %d: want 5, 6, 7 or 8", o.DataBits)
	case parities[o.Parity] == 0 && o.Parity != "none":
		return fmt.Errorf("invalid parity %q: want none, odd, even, mark or space", o.Parity)
	case !hasKey(stopBits, o.StopBits):
		return fmt.Errorf("invalid stop-bits %q: want 1, 1.5 or 2", o.StopBits)
	case !slices.Contains(lines, o.DTR):
		return fmt.Errorf("invalid dtr %q: want auto, on, off or keep", o.DTR)
	case !slices.Contains(lines, o.RTS):
		return fmt.Errorf("invalid rts %q: want auto, on, off or keep", o.RTS)
	case !slices.Contains(inputs, o.Input):
		return fmt.Errorf("invalid input %q: want auto, frames or text", o.Input)
	case o.FrameSamples < 1 || o.FrameSamples > 65535:
		return fmt.Errorf("invalid text-frame-samples %d: want 1 to 65535", o.FrameSamples)
	}
	if o.Match != "" {
		if _, err := ParseMatch(o.Match); err != nil {
			return err
		}
	}
	return nil
}

func hasKey[V any](m map[string]V, k string) bool { _, ok := m[k]; return ok }

// mode is the serial.Mode for these options; id is the device's USB
// identity ("vid:pid", or "" if unknown) for the auto modem-line choice.
func (o Options) mode(id string) *serial.Mode {
	m := &serial.Mode{BaudRate: o.Baud, DataBits: o.DataBits,
		Parity: parities[o.Parity], StopBits: stopBits[o.StopBits]}
	if o.DTR == LineKeep && o.RTS == LineKeep {
		return m
	}
	m.InitialStatusBits = &serial.ModemOutputBits{DTR: lineOn(o.DTR, id), RTS: lineOn(o.RTS, id)}
	return m
}

// lineOn decides a modem line. auto is off (an ESP32 auto-reset circuit
// leaves EN and IO0 alone when DTR and RTS are equal), except for Espressif
// native USB, where TinyUSB CDC sends nothing while DTR is deasserted.
// keep with the other line set keeps the line as the OS raised it at open.
func lineOn(v, id string) bool {
	switch v {
	case LineOn, LineKeep:
		return true
	case LineAuto:
		return len(id) >= 4 && id[:4] == espressifVID
	}
	return false
}
