package capture

import "github.com/wsbridge/wsbridge/internal/frame"

// Handler receives what a Capture reads. Both methods are called on the
// goroutine that owns the port, one call at a time, in order: they must not
// block for long (a slow handler delays reading and the device's data piles
// up in the kernel), and must not call Run.
type Handler interface {
	// Packet is called for every valid packet (data, info, log, reply).
	// p and the slices it holds are valid only during the call; use
	// p.Clone to keep it.
	Packet(p *frame.Packet)
	// Event is called when the device comes or goes, when a sequence gap
	// or restart is seen, and when auto input detection decides.
	Event(e Event)
}

// EventKind says what an Event reports.
type EventKind uint8

// Event kinds.
const (
	DeviceUp      EventKind = iota + 1 // the port was opened (or reopened)
	DeviceDown                         // the port was lost; Reason says why
	Gap                                // frames Seq.From..Seq.To never arrived
	Restart                            // the device started counting again (Seq.Seq)
	InputDetected                      // auto input chose Reason: "frames" or "text"
)

func (k EventKind) String() string {
	switch k {
	case DeviceUp:
		return "device_up"
	case DeviceDown:
		return "device_down"
	case Gap:
		return "gap"
	case Restart:
		return "restart"
	case InputDetected:
		return "input_detected"
	}
	return "unknown"
}

// Event is a change in the state of the capture.
type Event struct {
	Kind   EventKind
	Reason string         // DeviceUp: "open" or "reopen"; DeviceDown: the cause; InputDetected: the mode
	Port   string         // the device path, or "sim"
	Seq    frame.SeqEvent // Gap and Restart
}

// Stats are the capture's counters, cumulative since New. The embedded
// frame.Stats are those of the decoders (bytes, frames, noise, CRC
// failures, gaps, lost frames, ...).
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
