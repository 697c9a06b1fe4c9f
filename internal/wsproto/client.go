package wsproto

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf8"
)

// MaxClientMessage is the largest message a client may send; serve closes
// the connection with status 1009 (message too big) beyond it.
const MaxClientMessage = 4096

// MaxCommandLine is the longest command line forwarded to a device.
const MaxCommandLine = 256

// ParseError is a client message that cannot be accepted. Code is one of
// the Err* codes; the message explains what to send instead.
type ParseError struct {
	Code    string
	Message string
}

func (e *ParseError) Error() string { return e.Code + ": " + e.Message }

// Reply returns the Error message to send back to the client.
func (e *ParseError) Reply() Error { return Error{Type: TypeError, Code: e.Code, Message: e.Message} }

// ParseClientMessage validates one text message from a client. The only
// message clients send today is a Command: {"type":"command","line":"rate 8000"}.
func ParseClientMessage(data []byte) (Command, error) {
	var probe struct {
		Type *string         `json:"type"`
		Line json.RawMessage `json:"line"`
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&probe); err != nil {
		return Command{}, &ParseError{ErrBadJSON, fmt.Sprintf("message is not a JSON object: %v", err)}
	}
	if dec.More() {
		return Command{}, &ParseError{ErrBadJSON, "one JSON object per message"}
	}
	if probe.Type == nil {
		return Command{}, &ParseError{ErrUnknownType, `missing "type": send {"type":"command","line":"..."}`}
	}
	if *probe.Type != TypeCommand {
		return Command{}, &ParseError{ErrUnknownType, fmt.Sprintf("unknown message type %q: clients send only \"command\"", *probe.Type)}
	}
	var line string
	if err := json.Unmarshal(probe.Line, &line); err != nil || len(probe.Line) == 0 {
		return Command{}, &ParseError{ErrBadCommand, `"line" must be a string, e.g. {"type":"command","line":"rate 8000"}`}
	}
	if err := checkLine(line); err != nil {
		return Command{}, err
	}
	return Command{Type: TypeCommand, Line: line}, nil
}

func checkLine(line string) error {
	switch {
	case strings.TrimSpace(line) == "":
		return &ParseError{ErrBadCommand, "empty command line"}
	case len(line) > MaxCommandLine:
		return &ParseError{ErrBadCommand, fmt.Sprintf("command line of %d bytes exceeds %d", len(line), MaxCommandLine)}
	case !utf8.ValidString(line) || strings.IndexFunc(line, isControl) >= 0:
		return &ParseError{ErrBadCommand, "command line must be one line of text without control characters"}
	}
	return nil
}

// isControl is true for the control characters a command line must not
// carry (CR, LF and NUL among them); tab is allowed.
func isControl(r rune) bool { return r < 0x20 && r != '\t' || r == 0x7f }
