package capture

import (
	"github.com/wsbridge/wsbridge/internal/frame"
	"github.com/wsbridge/wsbridge/internal/source"
)

// Stats are the capture's counters, cumulative since New. The embedded
// frame.Stats are those of the decoders (bytes, packets, frames, noise,
// CRC failures, malformed and oversize packets).
type Stats struct {
	frame.Stats
	DeviceUp      bool   `json:"device_up"`      // the port is open now
	Port          string `json:"port"`           // the device path in use, or "sim"
	Input         string `json:"input"`          // frames or text; "" while auto detection watches
	Opens         uint64 `json:"opens"`          // successful opens, including the first
	Reopens       uint64 `json:"reopens"`        // successful reopens after the device was lost
	Downs         uint64 `json:"device_downs"`   // times the device was lost
	Commands      uint64 `json:"commands"`       // command lines written to the device
	CommandErrors uint64 `json:"command_errors"` // command lines that failed to write
}

var _ source.Source = (*Capture)(nil)

// Counters reports the capture's counters for /metrics and /api/channels:
// the decoders' (serial_*), the port's opens and losses, the commands.
// Safe for concurrent use.
func (c *Capture) Counters() []source.Counter {
	s := c.Stats()
	n := func(name, help string, v uint64) source.Counter {
		return source.Counter{Name: name, Help: help, Value: float64(v)}
	}
	out := source.DecoderCounters(s.Stats)
	out = append(out,
		n("device_opens_total", "Successful opens of the device, including the first.", s.Opens),
		n("device_reopens_total", "Reopens after the device was lost.", s.Reopens),
		n("device_downs_total", "Times the device was lost.", s.Downs))
	return append(out, source.CommandCounters(s.Commands, s.CommandErrors)...)
}
