package frame

import (
	"bytes"
	"strconv"
	"time"
)

// MaxLineSize is the longest text line the TextDecoder accepts; longer
// lines are counted as noise and skipped.
const MaxLineSize = 4096

// TextDecoder turns the text that plain Arduino sketches print into data
// frames. Each line is one sample instant: one value, several separated by
// comma, space or tab, or the Serial Plotter form "name:value,name2:value2".
// Lines end in \n or \r\n.
//
// The host assigns sequence numbers (from 0) and timestamps (µs since the
// first line, from Now), and groups lines into frames of FrameSamples lines,
// or fewer when Flush is called (the capture loop calls it every few ms).
// Values are i32 until a non-integer appears; from then on frames are f32.
// A change of channel count or names flushes the frame and emits a new
// TypeInfo packet. Lines starting with "#" are device text: "# ok ..." and
// "# err ..." become TypeReply packets, others TypeLog; other lines that are
// not numbers become TypeLog packets if printable, else noise.
//
// Packets passed to OnPacket are valid only during the call. A TextDecoder
// is not safe for concurrent use.
type TextDecoder struct {
	OnPacket     func(p *Packet)
	FrameSamples int              // lines per frame; default 64
	Rate         uint32           // sample rate to announce; 0 estimates it from arrival times
	Now          func() time.Time // clock; default time.Now

	line       []byte
	skipping   bool
	vals       []float64
	fieldNames [][]byte // names of the current line's fields, aliasing the line
	names      []string
	buf        []float64 // pending samples, interleaved
	channels   int
	isFloat    bool
	first      time.Time
	frameT     time.Time
	lines      uint64
	seq        uint32
	enc        []byte
	payload    []byte
	p          Packet
	stats      Stats
}

// NewTextDecoder returns a text decoder that calls onPacket for each packet.
func NewTextDecoder(onPacket func(p *Packet)) *TextDecoder {
	return &TextDecoder{OnPacket: onPacket, FrameSamples: 64, Now: time.Now,
		line: make([]byte, 0, MaxLineSize)}
}

// Stats returns the counters so far.
func (t *TextDecoder) Stats() Stats { return t.stats }

// Resync drops a partial line, as after the port was reopened: its bytes
// are counted as noise. Pending samples stay (call Flush to emit them).
func (t *TextDecoder) Resync() {
	if !t.skipping {
		t.stats.NoiseBytes += uint64(len(t.line))
	}
	t.line, t.skipping = t.line[:0], false
}

// Write feeds text to the decoder. It never fails and consumes all of p.
func (t *TextDecoder) Write(p []byte) (int, error) {
	n := len(p)
	t.stats.Bytes += uint64(n)
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			t.hold(p)
			break
		}
		t.hold(p[:i])
		if !t.skipping {
			t.handleLine(bytes.TrimSuffix(t.line, []byte{'\r'}))
		}
		t.line, t.skipping = t.line[:0], false
		p = p[i+1:]
	}
	return n, nil
}

func (t *TextDecoder) hold(p []byte) {
	if t.skipping {
		t.stats.NoiseBytes += uint64(len(p))
		return
	}
	if len(t.line)+len(p) > MaxLineSize {
		t.stats.NoiseBytes += uint64(len(t.line) + len(p))
		t.stats.Oversize++
		t.line, t.skipping = t.line[:0], true
		return
	}
	t.line = append(t.line, p...)
}

func (t *TextDecoder) handleLine(l []byte) {
	if len(bytes.TrimSpace(l)) == 0 {
		return
	}
	if l[0] == '#' {
		t.emitText(bytes.TrimSpace(l[1:]))
		return
	}
	names, ok := t.parseValues(l)
	if !ok {
		t.emitNonNumeric(l)
		return
	}
	t.addSample(names)
}

// parseValues splits l into t.vals and t.fieldNames (nil where a field has
// no "name:" prefix). It allocates only for non-integer values.
func (t *TextDecoder) parseValues(l []byte) (names [][]byte, ok bool) {
	t.vals, t.fieldNames = t.vals[:0], t.fieldNames[:0]
	for len(l) > 0 {
		i := fieldEnd(l)
		field := l[:i]
		l = l[min(i+1, len(l)):]
		if len(field) == 0 {
			continue
		}
		name, val, found := bytes.Cut(field, []byte{':'})
		if !found {
			val, name = name, nil
		}
		v, ok := parseNumber(val)
		if !ok {
			return nil, false
		}
		t.vals = append(t.vals, v)
		t.fieldNames = append(t.fieldNames, name)
	}
	return t.fieldNames, len(t.vals) > 0 && len(t.vals) <= 255
}

// fieldEnd is the index of the first separator (comma, space or tab) in
// l, or len(l). (bytes.IndexAny builds a set of the separators per call.)
func fieldEnd(l []byte) int {
	for i, c := range l {
		if c == ',' || c == ' ' || c == '\t' {
			return i
		}
	}
	return len(l)
}

// parseNumber parses a decimal integer without allocating, and anything
// else strconv.ParseFloat accepts.
func parseNumber(b []byte) (float64, bool) {
	if n, ok := parseInt(b); ok {
		return float64(n), true
	}
	v, err := strconv.ParseFloat(string(b), 64)
	return v, err == nil
}

// parseInt parses an optionally signed decimal integer of at most 18 digits.
func parseInt(b []byte) (int64, bool) {
	neg := len(b) > 0 && (b[0] == '-' || b[0] == '+')
	digits := b
	if neg {
		neg, digits = b[0] == '-', b[1:]
	}
	if len(digits) == 0 || len(digits) > 18 {
		return 0, false
	}
	var n int64
	for _, c := range digits {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	if neg {
		n = -n
	}
	return n, true
}

// addSample adds the line just parsed into t.vals. The clock is read only
// for a line that starts a frame (its time is the frame's TimeUS), before
// any flush, as the line's arrival time.
func (t *TextDecoder) addSample(names [][]byte) {
	reshape := t.shapeChanged(names)
	toFloat := !t.isFloat && !allInt32(t.vals)
	var now time.Time
	if len(t.buf) == 0 || reshape || toFloat {
		now = t.Now()
	}
	if t.lines == 0 {
		t.first = now
	}
	t.lines++
	if reshape {
		t.Flush()
		t.setShape(names)
	}
	if toFloat {
		t.Flush()
		t.isFloat = true
		t.emitInfo()
	}
	if len(t.buf) == 0 {
		t.frameT = now
	}
	t.buf = append(t.buf, t.vals...)
	if len(t.buf)/t.channels >= t.frameSamples() {
		t.Flush()
	}
}

// allInt32 reports whether every value in vals is an int32.
func allInt32(vals []float64) bool {
	for _, v := range vals {
		if v != float64(int32(v)) {
			return false
		}
	}
	return true
}

func (t *TextDecoder) frameSamples() int {
	n := t.FrameSamples
	if n <= 0 {
		n = 64
	}
	maxN := MaxPayload / (4 * t.channels)
	return min(n, maxN)
}

func (t *TextDecoder) shapeChanged(names [][]byte) bool {
	if len(t.vals) != t.channels {
		return true
	}
	for i, n := range names {
		if len(n) > 0 && string(n) != t.names[i] {
			return true
		}
	}
	return false
}

func (t *TextDecoder) setShape(names [][]byte) {
	t.channels = len(t.vals)
	t.names = t.names[:0]
	for _, n := range names {
		t.names = append(t.names, string(n))
	}
	t.emitInfo()
}

func (t *TextDecoder) sampleType() SampleType {
	if t.isFloat {
		return F32
	}
	return I32
}

// rate is the configured rate, or the rate estimated from line arrivals.
func (t *TextDecoder) rate() uint32 {
	if t.Rate != 0 {
		return t.Rate
	}
	el := t.Now().Sub(t.first).Seconds()
	if t.lines < 2 || el <= 0 {
		return 0
	}
	return uint32(float64(t.lines-1)/el + 0.5)
}

// Flush emits the pending samples, if any, as one data frame.
func (t *TextDecoder) Flush() {
	if len(t.buf) == 0 || t.channels == 0 {
		return
	}
	f := Frame{
		Seq: t.seq, TimeUS: uint64(t.frameT.Sub(t.first).Microseconds()), Rate: t.rate(),
		Channels: uint8(t.channels), SampleType: t.sampleType(), Count: uint16(len(t.buf) / t.channels),
	}
	t.payload = append(t.payload[:0], make([]byte, f.PayloadSize())...)
	f.Data = t.payload
	for i, v := range t.buf {
		f.PutFloat(i/t.channels, i%t.channels, v)
	}
	t.buf = t.buf[:0]
	t.seq++
	t.stats.Frames++
	var err error
	if t.enc, err = AppendFrame(t.enc[:0], &f); err == nil {
		t.emit()
	}
}

func (t *TextDecoder) emitInfo() {
	info := DeviceInfo{Rate: t.Rate, Channels: uint8(t.channels), SampleType: t.sampleType(),
		FrameSamples: uint16(t.frameSamples()), Name: "text input"}
	for i, n := range t.names {
		if n == "" {
			n = "ch" + strconv.Itoa(i)
		}
		info.ChannelInfo = append(info.ChannelInfo, Channel{Name: n})
	}
	var err error
	if t.enc, err = AppendInfo(t.enc[:0], &info); err == nil {
		t.emit()
	}
}

func (t *TextDecoder) emitText(l []byte) {
	var err error
	switch {
	case bytes.HasPrefix(l, []byte("ok")):
		t.enc, err = AppendReply(t.enc[:0], ReplyOK, bytes.TrimSpace(l[2:]))
	case bytes.HasPrefix(l, []byte("err")):
		t.enc, err = AppendReply(t.enc[:0], ReplyError, bytes.TrimSpace(l[3:]))
	default:
		t.enc, err = AppendLog(t.enc[:0], l)
	}
	if err == nil {
		t.emit()
	}
}

func (t *TextDecoder) emitNonNumeric(l []byte) {
	for _, c := range l {
		if c < 0x20 && c != '\t' || c >= 0x7f {
			t.stats.NoiseBytes += uint64(len(l))
			return
		}
	}
	var err error
	if t.enc, err = AppendLog(t.enc[:0], l); err == nil {
		t.emit()
	}
}

// emit parses the packet just encoded in t.enc and hands it on.
func (t *TextDecoder) emit() {
	if err := Parse(&t.p, t.enc); err != nil {
		return
	}
	t.stats.Packets++
	if t.OnPacket != nil {
		t.OnPacket(&t.p)
	}
}
