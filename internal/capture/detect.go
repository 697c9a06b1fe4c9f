package capture

import (
	"fmt"
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

// detector holds the first bytes until it can tell frames from text. The
// evidence comes from the real decoders run as probes with no output, so
// detection accepts exactly what decoding will: the frame probe counts
// valid packets, and the text probe counts lines of numbers. Each byte is
// probed once.
type detector struct {
	buf    []byte
	first  time.Time
	frames *frame.Decoder
	text   *frame.TextDecoder
}

func (d *detector) add(p []byte, now time.Time) {
	if len(d.buf) == 0 {
		d.first = now
		d.frames = frame.NewDecoder(nil)
		d.text = frame.NewTextDecoder(nil)
	}
	d.buf = append(d.buf, p...)
	d.frames.Write(p)
	d.text.Write(p)
}

// decide returns the input mode and the evidence, or "" to keep watching.
// One valid packet proves frames (a CRC-32C match is no accident); three
// lines of numbers prove text.
func (d *detector) decide(now time.Time) (mode, why string) {
	if len(d.buf) == 0 {
		return "", ""
	}
	packets := d.frames.Stats().Packets
	numeric := d.text.NumericLines()
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
