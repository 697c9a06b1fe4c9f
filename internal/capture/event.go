package capture

import "github.com/wsbridge/wsbridge/internal/frame"

// Handler receives what a Capture reads. Both methods are called on the
// goroutine that owns the port, one call at a time, in order: they must not
// block for long (a slow handler delays reading and the device's data piles
// up in the kernel), and must not call Run.
type Handler interface {
	// Packet is called for every valid packet (data, info, log, reply).
	// Data frames come as read, with the device's own seq: capture does
	// not follow sequence numbers (gaps, duplicates, late frames and
	// restarts are the channel's to classify). p and the slices it holds
	// are valid only during the call; use p.Clone to keep it.
	Packet(p *frame.Packet)
	// Event is called when the device comes or goes, and when auto input
	// detection decides.
	Event(e Event)
}

// EventKind says what an Event reports.
type EventKind uint8

// Event kinds.
const (
	DeviceUp      EventKind = iota + 1 // the port was opened (or reopened)
	DeviceDown                         // the port was lost; Reason says why
	InputDetected                      // auto input chose Reason: "frames" or "text"
)

func (k EventKind) String() string {
	switch k {
	case DeviceUp:
		return "device_up"
	case DeviceDown:
		return "device_down"
	case InputDetected:
		return "input_detected"
	}
	return "unknown"
}

// Event is a change in the state of the capture.
type Event struct {
	Kind   EventKind
	Reason string // DeviceUp: "open" or "reopen"; DeviceDown: the cause; InputDetected: the mode
	Port   string // the device path, or "sim"
}

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
