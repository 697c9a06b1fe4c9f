package wsproto

import (
	"github.com/wsbridge/wsbridge/internal/frame"
)

// Version is the WebSocket protocol version announced in Hello.
const Version = 1

// Epoch names one count of a channel's sequence numbers: an opaque string
// (today 8 lower-case hex digits) that changes whenever the numbering
// starts over (a new serve process, a device that restarted its count).
// A frame is named by (epoch, seq); a client resumes with
// ?since=SEQ&epoch=E, and serve answers a resume from another epoch at
// once with a restart status that carries the current epoch. Compare
// epochs for equality only: they have no order.
type Epoch = string

// Message types, the "type" field of every JSON message.
const (
	TypeHello    = "hello"
	TypeStatus   = "status"
	TypeGap      = "gap"
	TypeInfo     = "info"
	TypeLog      = "log"
	TypeReply    = "reply"
	TypeError    = "error"
	TypeFrame    = "frame"
	TypeEnvelope = "envelope"
	TypeCommand  = "command"
)

// Device states carried by Hello and Status.
const (
	StateUp      = "up"      // frames are flowing from the device
	StateDown    = "down"    // the device is gone (unplugged, port error); serve is reopening it
	StateRestart = "restart" // the device restarted its sequence numbers
	// StateStopping is serve's last message before it closes with 1001
	// when it shuts down: Seq is the seq its count of Epoch would have
	// sent next, so a client that got less than Seq-1 knows exactly which
	// frames went with the process (gap reason serve_stopped).
	StateStopping = "stopping"
)

// Gap reasons: where the missing frames were lost.
const (
	GapDevice     = "device"      // between the device and serve: corruption, unplug, device overrun
	GapHistory    = "history"     // a resume asked for frames older than the history holds
	GapSlowClient = "slow_client" // this client fell behind and was skipped ahead
	// GapServeStopped is what a client counts itself from a stopping
	// status: frames serve held but had not sent when it shut down.
	GapServeStopped = "serve_stopped"
)

// Device describes the device, from its info packet (or the input settings).
type Device struct {
	Name         string          `json:"name"`
	Firmware     string          `json:"firmware"`
	Rate         uint32          `json:"rate"`
	Channels     int             `json:"channels"`
	SampleType   string          `json:"sample_type"`
	FrameSamples int             `json:"frame_samples"`
	ChannelInfo  []frame.Channel `json:"channel_info"`
}

// DeviceFromInfo converts a device info packet.
func DeviceFromInfo(in *frame.DeviceInfo) Device {
	return Device{Name: in.Name, Firmware: in.Firmware, Rate: in.Rate, Channels: int(in.Channels),
		SampleType: in.SampleType.String(), FrameSamples: int(in.FrameSamples),
		ChannelInfo: append([]frame.Channel{}, in.ChannelInfo...)}
}

// History is the span of frames serve can replay to a resuming client.
type History struct {
	Frames   int    `json:"frames"`    // frames held; 0 means empty and the seqs are meaningless
	Epoch    Epoch  `json:"epoch"`     // the epoch of FirstSeq..LastSeq
	FirstSeq uint32 `json:"first_seq"` // oldest held
	LastSeq  uint32 `json:"last_seq"`  // newest held
	SpanMS   int64  `json:"span_ms"`   // sample time of the frames held, ms (at most --history)
}

// Hello is the first message on every connection.
type Hello struct {
	Type        string  `json:"type"` // "hello"
	Protocol    int     `json:"protocol"`
	Server      string  `json:"server"`       // "wsbridge <version>"
	Channel     string  `json:"channel"`      // the channel's name
	Epoch       Epoch   `json:"epoch"`        // the current count of sequence numbers
	Format      string  `json:"format"`       // binary, json or csv: what this connection receives
	DeviceState string  `json:"device_state"` // up or down
	Device      *Device `json:"device"`       // nil until the device has described itself
	Rate        uint32  `json:"rate"`
	Channels    int     `json:"channels"`
	SampleType  string  `json:"sample_type"`
	Seq         uint32  `json:"seq"`                // the seq the next live frame will carry (newest + 1)
	StartSeq    uint32  `json:"start_seq"`          // the first seq this connection will receive (envelope: the first its first envelope covers)
	Envelope    uint32  `json:"envelope,omitempty"` // ?envelope=N: envelope messages of N sample instants per point replace frames
	History     History `json:"history"`
	Commands    bool    `json:"commands"` // whether this client may send commands
}

// Status reports a change of device state.
type Status struct {
	Type   string `json:"type"` // "status"
	State  string `json:"state"`
	Reason string `json:"reason,omitempty"`
	Seq    uint32 `json:"seq"`             // for restart: the new first seq
	Epoch  Epoch  `json:"epoch,omitempty"` // for restart: the new epoch
}

// Gap names frames this client will never receive, From..To inclusive.
type Gap struct {
	Type   string `json:"type"` // "gap"
	From   uint32 `json:"from"`
	To     uint32 `json:"to"`
	Count  uint64 `json:"count"`
	Reason string `json:"reason"`
	Epoch  Epoch  `json:"epoch,omitempty"` // the epoch From..To belong to
}

// Info announces new device info mid-stream.
type Info struct {
	Type   string `json:"type"` // "info"
	Device Device `json:"device"`
}

// Log carries a device log line.
type Log struct {
	Type string `json:"type"` // "log"
	Text string `json:"text"`
}

// Reply carries the device's answer to a command.
type Reply struct {
	Type string `json:"type"` // "reply"
	OK   bool   `json:"ok"`
	Text string `json:"text"`
}

// Error codes.
const (
	ErrBadJSON          = "bad_json"
	ErrUnknownType      = "unknown_type"
	ErrBadCommand       = "bad_command"
	ErrCommandsDisabled = "commands_disabled"
	ErrUnauthorized     = "unauthorized"
	ErrBinary           = "binary_not_expected"
	ErrDeviceDown       = "device_down"
)

// Error answers a client message that could not be served.
type Error struct {
	Type    string `json:"type"` // "error"
	Code    string `json:"code"`
	Message string `json:"message"`
}

// Command asks serve to write Line to the device (client to server).
type Command struct {
	Type string `json:"type"` // "command"
	Line string `json:"line"`
}
