package ingest

import (
	"errors"
	"unicode/utf8"

	"github.com/coder/websocket"
)

// Sentinel errors wrapped by *MessageError. Use errors.Is.
var (
	// ErrNotV1 means a binary message is not a wsbridge v1 packet.
	ErrNotV1 = errors.New("not a v1 packet")
	// ErrWrongKind means a data message of the other kind (binary v1 or
	// text/JSON) than the connection started with, or than the input allows.
	ErrWrongKind = errors.New("wrong kind of message")
	// ErrMalformed means a v1 packet fails a check (length, CRC, fields).
	ErrMalformed = errors.New("malformed packet")
	// ErrBadText means a text message that is not UTF-8 or holds control
	// characters.
	ErrBadText = errors.New("bad text")
	// ErrBadJSON means JSON that does not parse or is not an object of
	// numbers (or an array of such objects).
	ErrBadJSON = errors.New("bad json")
	// ErrTooBig means a message over MaxMessage bytes or a text line over
	// frame.MaxLineSize bytes.
	ErrTooBig = errors.New("message too big")
	// ErrProtocol means frames that break RFC 6455 (unmasked, unknown
	// opcode, a bad fragment sequence, a bad close frame).
	ErrProtocol = errors.New("websocket protocol error")
)

// Close codes of the ingest protocol beyond RFC 6455's own.
const (
	// CloseBusy refuses a second publisher while the first answers pings.
	// (A publisher that stops answering pings, or is replaced after not
	// answering one, is cut without a close frame: it would not read it.)
	CloseBusy websocket.StatusCode = 4009
)

// MaxCloseReason is the longest close reason RFC 6455 allows (125 bytes of
// control frame payload less the 2-byte code).
const MaxCloseReason = 123

// MessageError is a message the decoder refuses. Reason is the short label
// used in metrics (not_v1, wrong_kind, malformed, bad_text, bad_json,
// too_big); Code is the close code to send; Msg says what was wrong and
// what to send instead.
type MessageError struct {
	Reason string
	Code   websocket.StatusCode
	Msg    string
	Err    error // one of the sentinels above
}

func (e *MessageError) Error() string { return e.Msg }

func (e *MessageError) Unwrap() error { return e.Err }

// CloseReason is Msg cut to MaxCloseReason bytes on a UTF-8 boundary.
func (e *MessageError) CloseReason() string { return TrimReason(e.Msg) }

// TrimReason cuts s to MaxCloseReason bytes without splitting a character.
func TrimReason(s string) string {
	if len(s) <= MaxCloseReason {
		return s
	}
	s = s[:MaxCloseReason]
	for len(s) > 0 && !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s
}

func refuse(reason string, err error, msg string) *MessageError {
	code := websocket.StatusInvalidFramePayloadData
	switch err {
	case ErrNotV1, ErrWrongKind:
		code = websocket.StatusUnsupportedData
	case ErrTooBig:
		code = websocket.StatusMessageTooBig
	}
	return &MessageError{Reason: reason, Code: code, Msg: msg, Err: err}
}
