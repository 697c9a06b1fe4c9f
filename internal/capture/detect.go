package capture

import (
	"bytes"
	"fmt"
	"strconv"
	"time"

	"github.com/wsbridge/wsbridge/internal/frame"
)

// Auto detection limits: decide on the evidence so far after softBytes or
// softTime from the first byte; with no evidence at all, default to frames
// after hardBytes or hardTime.
const (
	softBytes    = 4 << 10
	softTime     = 200 * time.Millisecond
	hardBytes    = 64 << 10
	hardTime     = 2 * time.Second
	numericProof = 3 // lines of numbers that prove text input on their own
)

// detector holds the first bytes until it can tell frames from text.
type detector struct {
	buf   []byte
	first time.Time
}

func (d *detector) add(p []byte, now time.Time) {
	if len(d.buf) == 0 {
		d.first = now
	}
	d.buf = append(d.buf, p...)
}

// decide returns the input mode and the evidence, or "" to keep watching.
// One valid packet proves frames (a CRC-32C match is no accident); three
// lines of numbers prove text.
func (d *detector) decide(now time.Time) (mode, why string) {
	if len(d.buf) == 0 {
		return "", ""
	}
	packets := countPackets(d.buf)
	numeric := countNumericLines(d.buf)
	soft := len(d.buf) >= softBytes || now.Sub(d.first) >= softTime
	hard := len(d.buf) >= hardBytes || now.Sub(d.first) >= hardTime
	switch {
	case packets > 0:
		return InputFrames, fmt.Sprintf("%d valid packet(s) in the first %d bytes", packets, len(d.buf))
	case numeric >= numericProof || soft && numeric > 0:
		return InputText, fmt.Sprintf("%d line(s) of numbers in the first %d bytes", numeric, len(d.buf))
	case hard:
		return InputFrames, fmt.Sprintf("no packet and no line of numbers in %d bytes: "+
			"defaulting to frames (use --input text if the device prints text)", len(d.buf))
	}
	return "", ""
}

// countPackets counts the complete runs (each ended by 0x00) that are
// valid packets.
func countPackets(b []byte) int {
	end := bytes.LastIndexByte(b, 0)
	if end < 0 {
		return 0
	}
	var pkt []byte
	var p frame.Packet
	n := 0
	for _, run := range bytes.Split(b[:end], []byte{0}) {
		var err error
		if pkt, err = frame.DecodeCOBS(pkt[:0], run); err == nil && frame.Parse(&p, pkt) == nil {
			n++
		}
	}
	return n
}

// countNumericLines counts complete lines that hold only numbers, as the
// text decoder reads them ("12", "1,2,3", "a:1 b:2").
func countNumericLines(b []byte) int {
	n := 0
	for {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			return n
		}
		if isNumericLine(bytes.TrimSuffix(b[:i], []byte{'\r'})) {
			n++
		}
		b = b[i+1:]
	}
}

func isNumericLine(l []byte) bool {
	fields := bytes.FieldsFunc(l, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' })
	if len(fields) == 0 {
		return false
	}
	for _, f := range fields {
		if _, v, ok := bytes.Cut(f, []byte{':'}); ok {
			f = v
		}
		if _, err := strconv.ParseFloat(string(f), 64); err != nil {
			return false
		}
	}
	return true
}
