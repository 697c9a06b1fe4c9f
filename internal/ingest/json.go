package ingest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
)

// maxIgnoredNames bounds the field names remembered for OnIgnore.
const maxIgnoredNames = 64

// jsonLines renders a JSON message as text lines for the text decoder:
// each object of numbers becomes a Serial Plotter line "a:1,b:2", an
// object without numbers a "#" log line holding its JSON.
func (d *Decoder) jsonLines(msg []byte) ([]byte, *MessageError) {
	dec := json.NewDecoder(bytes.NewReader(msg))
	dec.UseNumber()
	d.line = d.line[:0]
	tok, err := dec.Token()
	if err != nil {
		return nil, badJSON(err)
	}
	switch tok {
	case json.Delim('{'):
		if err := d.object(dec, msg, 0); err != nil {
			return nil, err
		}
	case json.Delim('['):
		for dec.More() {
			start := dec.InputOffset()
			if tok, err := dec.Token(); err != nil {
				return nil, badJSON(err)
			} else if tok != json.Delim('{') {
				return nil, refuse("bad_json", ErrBadJSON, "a JSON array must hold objects such as {\"value\": 1234}, one per sample instant")
			}
			if err := d.object(dec, msg, start); err != nil {
				return nil, err
			}
		}
		if _, err := dec.Token(); err != nil {
			return nil, badJSON(err)
		}
	default:
		return nil, refuse("bad_json", ErrBadJSON, "JSON message must be an object such as {\"value\": 1234} or {\"a\": 1, \"b\": 2}, or an array of them")
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, refuse("bad_json", ErrBadJSON, "one JSON value per message")
	}
	return d.line, nil
}

// object renders the object whose '{' was just read (it began at start in
// msg) as one line.
func (d *Decoder) object(dec *json.Decoder, msg []byte, start int64) *MessageError {
	lineStart, fields := len(d.line), 0
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return badJSON(err)
		}
		key := tok.(string) // object keys are always strings
		if tok, err = dec.Token(); err != nil {
			return badJSON(err)
		}
		num, ok, merr := d.number(key, tok)
		if merr != nil {
			return merr
		}
		if !ok {
			continue
		}
		if fields++; fields > 255 {
			return refuse("bad_json", ErrBadJSON, "object with more than 255 numeric fields: at most 255 channels")
		}
		if len(key) > 255 {
			return refuse("bad_json", ErrBadJSON, fmt.Sprintf("field name of %d bytes: at most 255", len(key)))
		}
		if fields > 1 {
			d.line = append(d.line, ',')
		}
		d.line = appendName(d.line, key)
		d.line = append(append(d.line, ':'), num...)
	}
	if _, err := dec.Token(); err != nil { // '}'
		return badJSON(err)
	}
	if fields == 0 { // no numbers: keep it as a log line
		raw := bytes.TrimLeft(msg[start:dec.InputOffset()], ", \t\r\n")
		d.line = append(d.line[:lineStart], "# "...)
		for _, c := range raw {
			if c == '\n' || c == '\r' || c == '\t' {
				c = ' '
			}
			d.line = append(d.line, c)
		}
	}
	d.line = append(d.line, '\n')
	return nil
}

// number returns the text of a numeric field value, ok false for a value
// that is skipped (string, boolean, null), or an error for a nested value
// or a number out of range.
func (d *Decoder) number(key string, tok json.Token) (string, bool, *MessageError) {
	var s string
	switch v := tok.(type) {
	case json.Number:
		s = string(v)
	case string:
		if !isJSONNumber(v) {
			d.ignore(key)
			return "", false, nil
		}
		s = v
	case json.Delim:
		return "", false, refuse("bad_json", ErrBadJSON, fmt.Sprintf("field %q holds an object or array: send flat objects of numbers such as {\"a\": 1, \"b\": 2}", clip([]byte(key), 32)))
	default: // bool, nil
		d.ignore(key)
		return "", false, nil
	}
	if _, err := strconv.ParseFloat(s, 64); err != nil {
		return "", false, refuse("bad_json", ErrBadJSON, fmt.Sprintf("field %q: %s is out of range", clip([]byte(key), 32), clip([]byte(s), 24)))
	}
	return s, true, nil
}

func (d *Decoder) ignore(key string) {
	d.stats.IgnoredFields++
	if d.ignored[key] || len(d.ignored) >= maxIgnoredNames {
		return
	}
	d.ignored[key] = true
	if d.opts.OnIgnore != nil {
		d.opts.OnIgnore(key)
	}
}

// isJSONNumber reports whether s is a number as JSON writes one.
func isJSONNumber(s string) bool {
	if s == "" || s[0] != '-' && (s[0] < '0' || s[0] > '9') {
		return false
	}
	var n json.Number
	return json.Unmarshal([]byte(s), &n) == nil
}

// appendName appends a field name as a plotter channel name: the
// characters that separate fields or names (comma, colon, space, tab) and
// '#' (a line starting with it is a log line) become '_'.
func appendName(dst []byte, name string) []byte {
	for i := 0; i < len(name); i++ {
		c := name[i]
		if c == ',' || c == ':' || c == ' ' || c == '\t' || c == '#' || c < 0x20 {
			c = '_'
		}
		dst = append(dst, c)
	}
	return dst
}

func badJSON(err error) *MessageError {
	var se *json.SyntaxError
	msg := err.Error()
	if errors.As(err, &se) {
		msg = fmt.Sprintf("%s at offset %d", se.Error(), se.Offset)
	}
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		msg = "JSON ends too early"
	}
	return refuse("bad_json", ErrBadJSON, "bad JSON: "+msg+": send objects such as {\"value\": 1234}")
}
