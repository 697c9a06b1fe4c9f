package source

import (
	"fmt"

	"github.com/wsbridge/wsbridge/internal/wsproto"
)

// EventKind is what an Event carries.
type EventKind uint8

// Event kinds.
const (
	EventFrame   EventKind = iota + 1 // a data frame: Raw is its v1 packet, Seq its seq
	EventGap                          // frames From..Seq never reached the channel (Reason: device, history)
	EventRestart                      // the count started over: Epoch is the new epoch, Seq its first seq
	EventUp                           // the device is (back) up; Reason says how
	EventDown                         // the device is gone; Reason says why
	EventInfo                         // Raw is the info message (wsproto.Info JSON)
	EventLog                          // Raw is the log message (wsproto.Log JSON)
	EventReply                        // Raw is the reply message (wsproto.Reply JSON)
)

var eventNames = [...]string{EventFrame: "frame", EventGap: "gap", EventRestart: "restart", EventUp: "up",
	EventDown: "down", EventInfo: "info", EventLog: "log", EventReply: "reply"}

func (k EventKind) String() string {
	if int(k) < len(eventNames) && eventNames[k] != "" {
		return eventNames[k]
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

// ParseEventKind is the inverse of EventKind.String.
func ParseEventKind(s string) (EventKind, bool) {
	for k, n := range eventNames {
		if n != "" && n == s {
			return EventKind(k), true
		}
	}
	return 0, false
}

// Event is one element of a channel's classified stream, in order: what
// the channel decided about its device (frames named by epoch and seq,
// device gaps, restarts, state changes, device text). A channel's events
// can be read out (the bus publishes them) and applied to a mirror of the
// channel elsewhere, which takes them as given instead of classifying
// again, so that its clients see exactly what the origin's clients see.
//
// Seq is the frame's seq for frames, the last missing seq (To) for gaps,
// the first seq of the new count for restarts, and the seq expected next
// for everything else. When Started, First is the first seq of Epoch
// (the epoch's count had begun when the event happened); events of an
// epoch before its first frame are not Started. Raw is valid only for the
// call it is passed to, unless the callee's contract says otherwise.
type Event struct {
	Kind    EventKind
	Epoch   wsproto.Epoch
	Started bool
	First   uint32
	Seq     uint32
	From    uint32 // gaps: the first missing seq
	Raw     []byte // frames: the v1 packet; others: the JSON text message clients get
	Reason  string
}

// String is a short description for logs and test failures.
func (e *Event) String() string {
	switch e.Kind {
	case EventFrame:
		return fmt.Sprintf("frame %s/%d", e.Epoch, e.Seq)
	case EventGap:
		return fmt.Sprintf("gap %s/%d..%d (%s)", e.Epoch, e.From, e.Seq, e.Reason)
	case EventRestart:
		return fmt.Sprintf("restart %s/%d", e.Epoch, e.Seq)
	}
	return fmt.Sprintf("%s %s/%d %q", e.Kind, e.Epoch, e.Seq, e.Reason)
}
