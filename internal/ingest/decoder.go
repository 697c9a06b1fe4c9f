package ingest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"time"
	"unicode/utf8"

	"github.com/coder/websocket"

	"github.com/wsbridge/wsbridge/internal/frame"
)

// Inputs: what a Decoder accepts.
const (
	InputAuto = "auto" // binary v1, text lines or JSON, told apart per message
	InputV1   = "v1"   // binary v1 packets; text only as log lines and "# ok" replies
	InputText = "text" // text lines of numbers (a JSON message is a log line)
	InputJSON = "json" // JSON objects of numbers (other text is refused)
)

// MaxMessage is the largest message a device may send: one v1 packet at
// most, or as much text.
const MaxMessage = frame.MaxPacketSize

// The kinds of data a connection carries once its first data arrived.
const (
	kindNone = ""
	kindV1   = "v1"
	kindText = "text"
)

// Options configure a Decoder.
type Options struct {
	Input string // InputAuto (default), InputV1, InputText or InputJSON
	// Rate is the sample rate announced for text and JSON data; 0
	// estimates it from the messages' arrival times.
	Rate uint32
	// Now is the clock that timestamps text and JSON data; default time.Now.
	Now func() time.Time
	// OnIgnore is called the first time each JSON field name is ignored
	// (a string, boolean or null value), for a log line; at most 64 names.
	OnIgnore func(field string)
}

// Stats are a Decoder's counters.
type Stats struct {
	Messages      uint64 `json:"messages"`       // messages decoded or refused
	Bytes         uint64 `json:"bytes"`          // their bytes
	Packets       uint64 `json:"packets"`        // packets emitted
	Frames        uint64 `json:"frames"`         // data frames emitted
	IgnoredFields uint64 `json:"ignored_fields"` // JSON fields skipped (not numbers)
	Refused       uint64 `json:"refused"`        // messages refused
}

// Decoder turns WebSocket messages from a device into packets. Binary
// messages are one v1 packet each, emitted with the device's seq; text and
// JSON become data frames numbered by the decoder (from 0, continuing for
// the Decoder's life), with info packets when the channels change.
//
// A Decoder is not safe for concurrent use: the goroutine that reads the
// connection owns it.
type Decoder struct {
	opts    Options
	kind    string             // what this connection's data is
	text    *frame.TextDecoder // text and JSON data (its seq numbers the frames)
	logs    *frame.TextDecoder // text on a v1 connection: only its log lines are used
	p       frame.Packet
	pend    []frame.Packet // packets of the current text message, cloned
	line    []byte         // JSON rendered as plotter lines
	ignored map[string]bool
	stats   Stats
}

// NewDecoder checks opts and returns a Decoder.
func NewDecoder(opts Options) (*Decoder, error) {
	switch opts.Input {
	case "":
		opts.Input = InputAuto
	case InputAuto, InputV1, InputText, InputJSON:
	default:
		return nil, fmt.Errorf("input %q: want auto, v1, text or json", opts.Input)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	d := &Decoder{opts: opts, ignored: map[string]bool{}}
	d.text = d.newText()
	d.logs = d.newText()
	return d, nil
}

func (d *Decoder) newText() *frame.TextDecoder {
	t := frame.NewTextDecoder(func(p *frame.Packet) { d.pend = append(d.pend, p.Clone()) })
	t.FrameSamples = 1 << 16 // one frame per message (the decoder caps it at what a packet holds)
	t.Rate, t.Now = d.opts.Rate, d.opts.Now
	return t
}

// Stats returns the counters.
func (d *Decoder) Stats() Stats { return d.stats }

// Kind is what the current connection's data is: "v1", "text" (text or
// JSON), or "" before its first data.
func (d *Decoder) Kind() string { return d.kind }

// Reset starts a new connection: its first data decides its kind again.
// Text and JSON frames keep their numbering.
func (d *Decoder) Reset() { d.kind = kindNone }

// Decode decodes one message and calls emit for each packet it holds, in
// order; p is valid only during the call. A refused message emits nothing
// and returns a *MessageError.
func (d *Decoder) Decode(binary bool, msg []byte, emit func(p *frame.Packet)) error {
	d.stats.Messages++
	d.stats.Bytes += uint64(len(msg))
	var err *MessageError
	switch {
	case len(msg) > MaxMessage:
		err = refuse("too_big", ErrTooBig, fmt.Sprintf("message of %d bytes: at most %d (one v1 packet per binary message)", len(msg), MaxMessage))
	case binary:
		err = d.binary(msg, emit)
	default:
		err = d.textMessage(msg, emit)
	}
	if err != nil {
		d.stats.Refused++
		return err
	}
	return nil
}

func (d *Decoder) binary(msg []byte, emit func(p *frame.Packet)) *MessageError {
	switch {
	case d.opts.Input == InputText || d.opts.Input == InputJSON:
		return refuse("wrong_kind", ErrWrongKind, fmt.Sprintf("binary message on a %s input: send %s as text messages", d.opts.Input, d.opts.Input))
	case d.kind == kindText:
		return refuse("wrong_kind", ErrWrongKind, "binary message after text data: one connection sends either v1 packets or text/JSON")
	case len(msg) == 0:
		return refuse("malformed", ErrMalformed, "empty binary message: send one v1 packet per binary message")
	case msg[0] != frame.Version:
		return refuse("not_v1", ErrNotV1, notV1(msg))
	}
	if err := frame.Parse(&d.p, msg); err != nil {
		if errors.Is(err, frame.ErrType) {
			return refuse("not_v1", ErrNotV1, fmt.Sprintf("unknown packet type 0x%02x: v1 has data 01, info 02, log 03, reply 04", msg[1]))
		}
		return refuse("malformed", ErrMalformed, fmt.Sprintf("bad v1 packet of %d bytes: %s", len(msg), cause(err)))
	}
	if d.p.Type == frame.TypeData {
		d.kind = kindV1
		d.stats.Frames++
	}
	d.stats.Packets++
	emit(&d.p)
	return nil
}

// cause is the innermost message of a frame error ("crc mismatch").
func cause(err error) string {
	for _, s := range []error{frame.ErrCRC, frame.ErrLength, frame.ErrShort, frame.ErrSampleType, frame.ErrField, frame.ErrTooLarge} {
		if errors.Is(err, s) {
			switch s {
			case frame.ErrCRC:
				return "CRC-32C mismatch"
			case frame.ErrLength:
				return "length field or payload size does not match"
			}
			return s.Error()
		}
	}
	return err.Error()
}

// notV1 explains a binary message whose first byte is not the version.
func notV1(msg []byte) string {
	if n := len(msg); n > 1 && msg[n-1] == 0 {
		if dec, err := frame.DecodeCOBS(nil, msg[:n-1]); err == nil && len(dec) > 0 && dec[0] == frame.Version {
			return "binary message is COBS-encoded: send the v1 packet itself, without COBS and the 0x00 delimiter"
		}
	}
	if utf8.Valid(msg) && printable(msg) {
		return fmt.Sprintf("binary message holds text (%q): send text as a text message", clip(msg, 24))
	}
	return fmt.Sprintf("binary message is not a v1 packet: first byte 0x%02x, want 0x01 (see docs/protocol.md)", msg[0])
}

func printable(b []byte) bool {
	for _, c := range b {
		if c < 0x20 && c != '\t' && c != '\r' && c != '\n' || c == 0x7f {
			return false
		}
	}
	return true
}

func clip(b []byte, n int) string {
	if len(b) <= n {
		return string(b)
	}
	for n > 0 && !utf8.RuneStart(b[n]) {
		n--
	}
	return string(b[:n]) + "..."
}

// textMessage decodes a text or JSON message.
func (d *Decoder) textMessage(msg []byte, emit func(p *frame.Packet)) *MessageError {
	if err := checkText(msg); err != nil {
		return err
	}
	asJSON := d.opts.Input == InputJSON || d.opts.Input != InputText && looksJSON(msg)
	lines := msg
	if asJSON {
		var err *MessageError
		if lines, err = d.jsonLines(msg); err != nil {
			return err
		}
	}
	t := d.text
	if d.kind == kindV1 || d.opts.Input == InputV1 {
		t = d.logs // numbers here are refused below; keep them out of the data count
	}
	d.pend = d.pend[:0]
	t.Write(lines)
	if len(lines) > 0 && lines[len(lines)-1] != '\n' {
		t.Write([]byte{'\n'})
	}
	t.Flush()
	data := false
	for i := range d.pend {
		data = data || d.pend[i].Type == frame.TypeData
	}
	if data && t == d.logs {
		return refuse("wrong_kind", ErrWrongKind, "text with numbers on a v1 connection: send data as v1 binary packets (text only for logs and # ok replies)")
	}
	if data {
		d.kind = kindText
	}
	for i := range d.pend {
		if d.pend[i].Type == frame.TypeData {
			d.stats.Frames++
		}
		d.stats.Packets++
		emit(&d.pend[i])
	}
	return nil
}

// checkText refuses text that is not UTF-8, holds control characters, or
// has a line longer than frame.MaxLineSize.
func checkText(msg []byte) *MessageError {
	if !utf8.Valid(msg) {
		return refuse("bad_text", ErrBadText, "text message is not valid UTF-8: send binary data as a binary message")
	}
	for i, c := range msg {
		if c < 0x20 && c != '\t' && c != '\r' && c != '\n' || c == 0x7f {
			return refuse("bad_text", ErrBadText, fmt.Sprintf("text message has control byte 0x%02x at offset %d: send lines of numbers, a:1,b:2 or JSON", c, i))
		}
	}
	for rest := msg; len(rest) > 0; {
		line, after, _ := bytes.Cut(rest, []byte{'\n'})
		if len(line) > frame.MaxLineSize {
			return refuse("too_big", ErrTooBig, fmt.Sprintf("text line of %d bytes: at most %d per line", len(line), frame.MaxLineSize))
		}
		rest = after
	}
	return nil
}

// looksJSON reports whether msg's first non-space byte opens a JSON object
// or array.
func looksJSON(msg []byte) bool {
	t := bytes.TrimLeft(msg, " \t\r\n")
	return len(t) > 0 && (t[0] == '{' || t[0] == '[')
}

// readMessage reads the next message of conn into buf (reused: the
// message is valid until the next call), at most MaxMessage bytes (the
// connection's read limit enforces it).
func readMessage(ctx context.Context, conn *websocket.Conn, buf *[]byte) (websocket.MessageType, []byte, error) {
	typ, r, err := conn.Reader(ctx)
	if err != nil {
		return 0, nil, err
	}
	b := (*buf)[:0]
	for {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
		n, err := r.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err == io.EOF {
			*buf = b
			return typ, b, nil
		}
		if err != nil {
			*buf = b
			return 0, nil, err
		}
	}
}
