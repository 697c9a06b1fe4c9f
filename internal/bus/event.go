package bus

import "github.com/wsbridge/wsbridge/internal/source"

// Event is one element of a channel's classified stream (source.Event):
// what the origin channel decided, carried by the bus as it is.
type Event = source.Event

// Kind is what an Event carries.
type Kind = source.EventKind

// Event kinds.
const (
	KindFrame   = source.EventFrame
	KindGap     = source.EventGap
	KindRestart = source.EventRestart
	KindUp      = source.EventUp
	KindDown    = source.EventDown
	KindInfo    = source.EventInfo
	KindLog     = source.EventLog
	KindReply   = source.EventReply
)
