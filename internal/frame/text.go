package frame

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/wsbridge/wsbridge/internal/ratelimit"
)

// MaxLineSize is the longest text line the TextDecoder accepts; longer
// lines are counted as noise and skipped.
const MaxLineSize = 4096

// SerialConfirmLines is the ConfirmLines for a serial byte stream, where
// a line can be cut short (at the open, by a lost byte) or two can run
// together: one such line must not change the channels back and forth.
const SerialConfirmLines = 2

// TextDecoder turns the text that plain Arduino sketches print into data
// frames. Each line is one sample instant: one value, several separated by
// comma, space or tab, or the Serial Plotter form "name:value,name2:value2"
// (also "name: value"), whose names become the channel names. Lines end in
// \n or \r\n.
//
// The host assigns sequence numbers (from 0) and timestamps: a frame's
// TimeUS is when its first line arrived, in µs since the first line. The
// clock is read once per Write (one read from the device); the lines of a
// Write are dated back from it, one sample period each (see lineTime). A frame
// ends when Flush is called (capture calls it when a read's bytes are used
// up), when it holds FrameSamples lines, or when the shape or sample type
// changes. Values are i32 until one that is not an int32 appears (a
// fraction, nan, or a whole number beyond ±2^31 such as micros() after 36
// minutes); from then on f32, which holds whole numbers exactly only up to
// ±2^24: the first one rounded is said once in a log message.
//
// The sample rate is Rate if set; otherwise it is measured from the line
// arrivals (see RateWindow): frames carry rate 0 until the first estimate,
// then the announced rate, which changes only when the measured rate moves
// by more than RateTolerance for RateHold. Every change of shape, sample
// type or announced rate is one TypeInfo packet, before the first frame
// it applies to. A line with a different field count or other labels
// changes the shape only when ConfirmLines lines in a row agree; fewer
// are strays, dropped and counted in Stats.Malformed.
//
// Lines starting with "#" are device text: "# ok ..." and "# err ..."
// become TypeReply packets, others TypeLog. Other lines that are not
// numbers become TypeLog packets (a sketch's Serial.println("boot ok")) if
// they are printable UTF-8; else they are noise. Log packets are rate
// limited (TextLogRate): the lines held back are counted and said.
//
// Packets passed to OnPacket are valid only during the call. A TextDecoder
// is not safe for concurrent use.
type TextDecoder struct {
	OnPacket     func(p *Packet)
	FrameSamples int              // most lines per frame; default 64
	Rate         uint32           // sample rate to announce; 0 measures it
	Now          func() time.Time // clock; default time.Now
	// ConfirmLines is how many lines in a row of a new shape make a change
	// of channels (the first line is held until then); 0 or 1: every line
	// stands on its own (whole messages). Capture uses SerialConfirmLines.
	ConfirmLines int

	line        []byte
	skipping    bool
	vals        []float64
	fieldNames  [][]byte // names of the current line's fields, aliasing the line
	shape       textShape
	held        heldLines // lines of a new shape, waiting for confirmation
	buf         []float64 // samples of the open frame, interleaved
	isFloat     bool
	saidInexact bool      // the log that whole numbers lose precision as f32 was sent
	now         time.Time // arrival time of the lines of the current Write
	after       int       // lines of the current Write after the one being handled
	first       time.Time
	frameT      time.Time
	lines       uint64 // sample lines accepted
	numeric     uint64 // lines of numbers seen (accepted, held or stray)
	seq         uint32
	rate        rateTracker
	logs        logLimit
	enc         []byte
	p           Packet
	stats       Stats
}

// textShape is what a line's fields say about the channels.
type textShape struct {
	channels int
	names    []string // "" where a field has no label
}

// heldLines are up to ConfirmLines-1 lines of a shape other than the
// current one, with when the first arrived.
type heldLines struct {
	shape textShape
	vals  []float64
	n     int
	bytes int
	at    time.Time
}

// NewTextDecoder returns a text decoder that calls onPacket for each packet.
func NewTextDecoder(onPacket func(p *Packet)) *TextDecoder {
	return &TextDecoder{OnPacket: onPacket, FrameSamples: 64, Now: time.Now,
		line: make([]byte, 0, MaxLineSize), logs: logLimit{bucket: ratelimit.Bucket{Rate: TextLogRate, Burst: TextLogBurst}}}
}

// Stats returns the counters so far.
func (t *TextDecoder) Stats() Stats { return t.stats }

// NumericLines is how many lines of numbers the decoder has seen, whether
// they became samples yet or not (auto input detection counts them).
func (t *TextDecoder) NumericLines() uint64 { return t.numeric }

// AnnouncedRate is the rate frames carry now: Rate, or the measured rate
// (0 until it is known).
func (t *TextDecoder) AnnouncedRate() uint32 {
	if t.Rate != 0 {
		return t.Rate
	}
	return t.rate.announced
}

// Resync drops a partial line and any lines held for confirmation, as
// after the port was reopened (their bytes are counted as noise), and
// starts the rate measurement over; the announced rate stays until a new
// measurement differs. Pending samples stay (call Flush to emit them).
func (t *TextDecoder) Resync() {
	if !t.skipping {
		t.stats.NoiseBytes += uint64(len(t.line))
	}
	t.line, t.skipping = t.line[:0], false
	t.dropHeld()
	t.rate.reset()
}

// Write feeds text to the decoder: the bytes of one read, all of which
// arrived by now. It never fails and consumes all of p.
func (t *TextDecoder) Write(p []byte) (int, error) {
	n := len(p)
	t.stats.Bytes += uint64(n)
	t.now = t.Now()
	t.after = bytes.Count(p, []byte{'\n'})
	before := t.lines
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			t.hold(p)
			break
		}
		t.after--
		t.hold(p[:i])
		if !t.skipping {
			t.handleLine(bytes.TrimSuffix(t.line, []byte{'\r'}))
		}
		t.line, t.skipping = t.line[:0], false
		p = p[i+1:]
	}
	if t.lines != before && t.Rate == 0 {
		t.rate.add(t.now, t.lines)
	}
	if t.Rate == 0 && t.lines > 0 {
		if _, changed := t.rate.update(t.now); changed {
			t.Flush()
			t.emitInfo()
		}
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
	if !t.parseValues(l) {
		t.emitNonNumeric(l)
		return
	}
	t.numeric++
	t.addLine(len(l))
}

// parseValues splits l into t.vals and t.fieldNames (nil where a field has
// no "name:" prefix). It allocates only for non-integer values.
func (t *TextDecoder) parseValues(l []byte) bool {
	t.vals, t.fieldNames = t.vals[:0], t.fieldNames[:0]
	var label []byte // "name:" with its value in the next field
	for len(l) > 0 {
		i := fieldEnd(l)
		field := l[:i]
		l = l[min(i+1, len(l)):]
		if len(field) == 0 {
			continue
		}
		name, val, found := bytes.Cut(field, []byte{':'})
		switch {
		case label != nil && found:
			return false
		case label != nil:
			name, val, label = label, field, nil
		case found && len(val) == 0 && len(name) > 0:
			label = name // "name: value"
			continue
		case !found:
			val, name = name, nil
		}
		v, ok := parseNumber(val)
		if !ok {
			return false
		}
		t.vals = append(t.vals, v)
		t.fieldNames = append(t.fieldNames, name)
	}
	return label == nil && len(t.vals) > 0 && len(t.vals) <= 255
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
// else strconv.ParseFloat accepts (Arduino prints "nan" and "inf" for
// such floats: they become f32 samples, null in JSON).
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

// addLine takes the line just parsed into t.vals (size bytes): a sample
// of the current shape, or a line of another shape, held until
// ConfirmLines in a row agree (then the shape changes) or a line of the
// current shape shows it was a stray.
func (t *TextDecoder) addLine(size int) {
	if t.matches(&t.shape) {
		if t.held.n > 0 {
			t.dropHeld()
		}
		t.addSample(t.vals, t.lineTime())
		return
	}
	if t.held.n == 0 || !t.matches(&t.held.shape) {
		t.dropHeld()
		t.held.shape.set(len(t.vals), t.fieldNames)
		t.held.at = t.lineTime()
	}
	t.held.vals = append(t.held.vals, t.vals...)
	t.held.n++
	t.held.bytes += size
	if t.held.n < t.ConfirmLines {
		return
	}
	t.Flush()
	t.shape, t.held.shape = t.held.shape, textShape{names: t.shape.names[:0]}
	if !t.isFloat && !allInt32(t.held.vals) {
		t.isFloat = true // one info for both changes
	}
	t.emitInfo()
	vals, at := t.held.vals, t.held.at
	for i := 0; i < len(vals); i += t.shape.channels {
		t.addSample(vals[i:i+t.shape.channels], at)
	}
	t.held.vals, t.held.n, t.held.bytes = vals[:0], 0, 0
}

// lineTime is when the line being handled arrived. A read brings every
// line it holds at once, the last one just before the read; the others
// came before it, one per sample period: so each is dated back from the
// read by the lines after it, at the announced rate (while it is not
// announced yet, at a rough measure of it). Times stay anchored to each
// read's arrival, so they never drift with a rounded rate, and the frames
// of a read that brings a burst of lines follow each other instead of
// sharing one time.
func (t *TextDecoder) lineTime() time.Time {
	if t.after == 0 {
		return t.now
	}
	r := float64(t.AnnouncedRate())
	if r == 0 {
		r = t.rate.rough()
	}
	if r <= 0 {
		return t.now
	}
	return t.now.Add(-time.Duration(float64(t.after) / r * float64(time.Second)))
}

// matches reports whether the parsed line fits s: as many fields, and
// each label (where the line has one) the same.
func (t *TextDecoder) matches(s *textShape) bool {
	if len(t.vals) != s.channels {
		return false
	}
	for i, n := range t.fieldNames {
		if len(n) > 0 && string(n) != s.names[i] {
			return false
		}
	}
	return true
}

func (s *textShape) set(channels int, names [][]byte) {
	s.channels = channels
	s.names = s.names[:0]
	for _, n := range names {
		s.names = append(s.names, string(n))
	}
}

// dropHeld discards held lines as strays.
func (t *TextDecoder) dropHeld() {
	if t.held.n == 0 {
		return
	}
	t.stats.Malformed += uint64(t.held.n)
	t.stats.NoiseBytes += uint64(t.held.bytes)
	t.held.vals, t.held.n, t.held.bytes = t.held.vals[:0], 0, 0
}

// addSample adds one sample instant that arrived at time at.
func (t *TextDecoder) addSample(vals []float64, at time.Time) {
	if t.lines == 0 {
		t.first = at
	}
	t.lines++
	if !t.isFloat && !allInt32(vals) {
		t.Flush()
		t.isFloat = true
		t.emitInfo()
	}
	if len(t.buf) == 0 {
		t.frameT = at
	}
	t.buf = append(t.buf, vals...)
	if len(t.buf)/t.shape.channels >= t.frameSamples() {
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
	maxN := MaxPayload / (4 * max(1, t.shape.channels))
	return min(n, maxN)
}

func (t *TextDecoder) sampleType() SampleType {
	if t.isFloat {
		return F32
	}
	return I32
}

// Flush emits the samples of the open frame, if any, as one data frame.
// It builds the packet in place: no copy of the samples and no re-parse.
// It also says how many lines of device text the rate limit held back,
// once a second has passed since the first of them.
func (t *TextDecoder) Flush() {
	if t.logs.held > 0 {
		t.reportHeld(t.Now())
	}
	if len(t.buf) == 0 || t.shape.channels == 0 {
		return
	}
	if t.isFloat && !t.saidInexact {
		t.noteInexact()
	}
	f := Frame{
		Seq: t.seq, TimeUS: uint64(t.frameT.Sub(t.first).Microseconds()), Rate: t.AnnouncedRate(),
		Channels: uint8(t.shape.channels), SampleType: t.sampleType(), Count: uint16(len(t.buf) / t.shape.channels),
	}
	enc, start := appendPrefix(t.enc[:0], TypeData)
	enc = binary.LittleEndian.AppendUint32(enc, f.Seq)
	enc = binary.LittleEndian.AppendUint64(enc, f.TimeUS)
	enc = binary.LittleEndian.AppendUint32(enc, f.Rate)
	enc = append(enc, f.Channels, byte(f.SampleType))
	enc = binary.LittleEndian.AppendUint16(enc, f.Count)
	data := len(enc)
	if t.isFloat {
		for _, v := range t.buf {
			enc = binary.LittleEndian.AppendUint32(enc, math.Float32bits(float32(v)))
		}
	} else {
		for _, v := range t.buf {
			enc = binary.LittleEndian.AppendUint32(enc, uint32(int32(v)))
		}
	}
	t.buf = t.buf[:0]
	enc, err := finish(enc, start)
	t.enc = enc
	if err != nil { // cannot happen: frameSamples keeps the payload within MaxPayload
		return
	}
	f.Data = enc[data : len(enc)-CRCSize]
	t.seq++
	t.stats.Frames++
	t.p = Packet{Type: TypeData, Frame: f, Raw: enc}
	t.deliver()
}

// noteInexact says once, in a log message before the frame that carries
// it, that a whole number of the open frame does not survive f32 (beyond
// ±2^24, as micros() is after 17 s): the protocol has no wider sample type,
// so text input carries it rounded (see docs/capture.md).
func (t *TextDecoder) noteInexact() {
	for _, v := range t.buf {
		if v == math.Trunc(v) && math.Abs(v) > 1<<24 && float64(float32(v)) != v {
			t.saidInexact = true
			t.emitLogText(fmt.Appendf(nil, "wsbridge: %.0f arrived as %.0f: text input carries these values as f32, "+
				"exact for whole numbers only up to ±16777216; print smaller numbers (e.g. micros() - start, "+
				"or millis()) or send binary frames to keep every digit (said once)", v, float64(float32(v))))
			return
		}
	}
}

func (t *TextDecoder) emitInfo() {
	info := DeviceInfo{Rate: t.AnnouncedRate(), Channels: uint8(t.shape.channels), SampleType: t.sampleType(),
		FrameSamples: uint16(t.frameSamples()), Name: "text input"}
	for i, n := range t.shape.names {
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

// emit parses the packet just encoded in t.enc and hands it on.
func (t *TextDecoder) emit() {
	if err := Parse(&t.p, t.enc); err != nil {
		return
	}
	t.deliver()
}

func (t *TextDecoder) deliver() {
	t.stats.Packets++
	if t.OnPacket != nil {
		t.OnPacket(&t.p)
	}
}
