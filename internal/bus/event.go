package bus

import (
	"fmt"

	"github.com/wsbridge/wsbridge/internal/wsproto"
)

// Kind is what an Event carries.
type Kind uint8

// Event kinds, in the order a channel classifies them.
const (
	KindFrame   Kind = iota + 1 // a data frame: Raw is its v1 packet, Seq its seq
	KindGap                     // frames From..Seq never reached the channel (Reason: device, history, ...)
	KindRestart                 // the count started over: Epoch is the new epoch, Seq its first seq
	KindUp                      // the device is (back) up; Reason says how
	KindDown                    // the device is gone; Reason says why
	KindInfo                    // Raw is a device info packet
	KindLog                     // Raw is a log packet
	KindReply                   // Raw is a command reply packet
)

var kindNames = [...]string{KindFrame: "frame", KindGap: "gap", KindRestart: "restart", KindUp: "up",
	KindDown: "down", KindInfo: "info", KindLog: "log", KindReply: "reply"}

func (k Kind) String() string {
	if int(k) < len(kindNames) && kindNames[k] != "" {
		return kindNames[k]
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

func parseKind(s string) (Kind, bool) {
	for k, n := range kindNames {
		if n == s && n != "" {
			return Kind(k), true
		}
	}
	return 0, false
}

// Event is one element of a channel's classified stream: what the origin
// channel decided (frames with their epoch, device gaps, restarts, state
// changes, device text), in order. The bus carries events as they are;
// a remote channel applies them without classifying again, so its
// clients see exactly what the origin's clients see.
//
// Seq is the frame's seq for frames, the last missing seq (To) for gaps,
// the first seq of the new count for restarts, and the seq expected next
// for everything else. First is the first seq of Epoch as the origin
// knows it, so a reader that starts mid-epoch can name exactly what it
// missed. Raw is valid only for the call it is passed to.
type Event struct {
	Kind   Kind
	Epoch  wsproto.Epoch
	First  uint32
	Seq    uint32
	From   uint32 // gaps: the first missing seq
	Raw    []byte
	Reason string
}

// String is a short description for logs and test failures.
func (e *Event) String() string {
	switch e.Kind {
	case KindFrame:
		return fmt.Sprintf("frame %s/%d", e.Epoch, e.Seq)
	case KindGap:
		return fmt.Sprintf("gap %s/%d..%d (%s)", e.Epoch, e.From, e.Seq, e.Reason)
	case KindRestart:
		return fmt.Sprintf("restart %s/%d", e.Epoch, e.Seq)
	}
	return fmt.Sprintf("%s %s/%d %q", e.Kind, e.Epoch, e.Seq, e.Reason)
}
