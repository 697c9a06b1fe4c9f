package frame

import (
	"encoding/binary"
	"fmt"
	"iter"
	"math"
	"strconv"
)

// TypeEnvelope is the packet type of an envelope: the min and max of every
// N sample instants of a run of data frames. serve sends it to clients
// that ask for ?envelope=N; a device never sends one, so Parse refuses it
// and ParseEnvelope reads it.
const TypeEnvelope Type = 0x05

// EnvelopeHeaderSize is the fixed part of an envelope's body.
const EnvelopeHeaderSize = 36

// Envelope is a decimated run of whole data frames: for every channel, the
// smallest and largest sample of each point, a point being N consecutive
// sample instants. Points sit on a grid of N sample instants: Phase is
// where the first covered sample instant sits inside its point, so the
// first point covers N-Phase instants (fewer if Samples is smaller), the
// middle ones N each, and the last what is left. docs/protocol.md
// specifies the bytes.
type Envelope struct {
	Seq        uint32     // the first data frame covered
	LastSeq    uint32     // the last data frame covered, inclusive: frames Seq..LastSeq (mod 2^32)
	TimeUS     uint64     // device time of the first sample instant covered, µs
	Rate       uint32     // sample rate of the frames, Hz
	Samples    uint32     // sample instants covered: the sum of the frames' counts
	N          uint32     // sample instants per point: a power of two, at least 2
	Phase      uint32     // 0..N-1: position of the first covered instant inside its point
	Channels   uint8      // channels of the frames
	SampleType SampleType // of the frames, and of the min and max values
	Points     uint16     // EnvelopePoints(Phase, Samples, N)
	Data       []byte     // Points x Channels x (min, max), point-major, little-endian in SampleType
}

// EnvelopePoints is the number of points an envelope of samples instants
// starting at phase on a grid of n has: ceil((phase+samples)/n), and 0
// when samples is 0.
func EnvelopePoints(phase, samples, n uint32) int {
	if samples == 0 || n == 0 {
		return 0
	}
	return int((uint64(phase) + uint64(samples) + uint64(n) - 1) / uint64(n))
}

// PayloadSize is the number of value bytes the header describes.
func (e *Envelope) PayloadSize() int {
	return int(e.Points) * int(e.Channels) * 2 * e.SampleType.Size()
}

// Frames is the number of data frames the envelope covers.
func (e *Envelope) Frames() uint64 { return uint64(e.LastSeq-e.Seq) + 1 }

// Span returns the covered sample instants of point k: from..to-1,
// counted from the first covered instant. A point with to-from < N is
// partial: the first one when Phase > 0, the last one when the run ends
// inside a point (the next envelope then starts inside the same point).
func (e *Envelope) Span(k int) (from, to int) {
	from = max(0, k*int(e.N)-int(e.Phase))
	to = min(int(e.Samples), (k+1)*int(e.N)-int(e.Phase))
	return from, to
}

// MinMax returns point k's smallest and largest value of channel ch. For
// f32, a point that held only NaN has NaN for both. It panics if k or ch
// is out of range, like a slice index.
func (e *Envelope) MinMax(k, ch int) (lo, hi float64) {
	sz := e.SampleType.Size()
	off := (k*int(e.Channels) + ch) * 2 * sz
	return sampleValue(e.SampleType, e.Data[off:off+sz]), sampleValue(e.SampleType, e.Data[off+sz:off+2*sz])
}

func sampleValue(st SampleType, b []byte) float64 {
	switch st {
	case U16:
		return float64(binary.LittleEndian.Uint16(b))
	case I16:
		return float64(int16(binary.LittleEndian.Uint16(b)))
	case I32:
		return float64(int32(binary.LittleEndian.Uint32(b)))
	case F32:
		return float64(math.Float32frombits(binary.LittleEndian.Uint32(b)))
	}
	return 0
}

// check validates the header and the payload's size.
func (e *Envelope) check() error {
	if err := e.checkHeader(); err != nil {
		return err
	}
	if len(e.Data) != e.PayloadSize() {
		return fmt.Errorf("envelope of frames %d..%d: %d points x %d channels of %s in %d bytes: %w",
			e.Seq, e.LastSeq, e.Points, e.Channels, e.SampleType, len(e.Data), ErrLength)
	}
	return nil
}

// checkHeader validates the header's fields.
func (e *Envelope) checkHeader() error {
	switch {
	case e.SampleType.Size() == 0:
		return fmt.Errorf("envelope of frames %d..%d: %w 0x%02x", e.Seq, e.LastSeq, ErrSampleType, uint8(e.SampleType))
	case e.N < 2 || e.N&(e.N-1) != 0:
		return fmt.Errorf("envelope of frames %d..%d: n %d is not a power of two from 2: %w", e.Seq, e.LastSeq, e.N, ErrField)
	case e.Phase >= e.N:
		return fmt.Errorf("envelope of frames %d..%d: phase %d not below n %d: %w", e.Seq, e.LastSeq, e.Phase, e.N, ErrField)
	case e.LastSeq-e.Seq >= 1<<31:
		return fmt.Errorf("envelope: last_seq %d is before seq %d: %w", e.LastSeq, e.Seq, ErrField)
	case int(e.Points) != EnvelopePoints(e.Phase, e.Samples, e.N):
		return fmt.Errorf("envelope of frames %d..%d: %d points, want %d for phase %d, %d samples, n %d: %w",
			e.Seq, e.LastSeq, e.Points, EnvelopePoints(e.Phase, e.Samples, e.N), e.Phase, e.Samples, e.N, ErrField)
	case e.Channels == 0:
		return fmt.Errorf("envelope of frames %d..%d: 0 channels: %w", e.Seq, e.LastSeq, ErrLength)
	}
	return nil
}

// AppendEnvelope appends the envelope packet for e to dst.
func AppendEnvelope(dst []byte, e *Envelope) ([]byte, error) {
	if err := e.check(); err != nil {
		return dst, fmt.Errorf("failed to encode %w", err)
	}
	dst, start := appendPrefix(dst, TypeEnvelope)
	dst = appendEnvelopeHeader(dst, e)
	dst = append(dst, e.Data...)
	return finish(dst, start)
}

func appendEnvelopeHeader(dst []byte, e *Envelope) []byte {
	dst = binary.LittleEndian.AppendUint32(dst, e.Seq)
	dst = binary.LittleEndian.AppendUint32(dst, e.LastSeq)
	dst = binary.LittleEndian.AppendUint64(dst, e.TimeUS)
	dst = binary.LittleEndian.AppendUint32(dst, e.Rate)
	dst = binary.LittleEndian.AppendUint32(dst, e.Samples)
	dst = binary.LittleEndian.AppendUint32(dst, e.N)
	dst = binary.LittleEndian.AppendUint32(dst, e.Phase)
	dst = append(dst, e.Channels, byte(e.SampleType))
	return binary.LittleEndian.AppendUint16(dst, e.Points)
}

// ParseEnvelope validates one envelope packet b (prefix, body and CRC)
// and fills e; e.Data aliases b.
func ParseEnvelope(e *Envelope, b []byte) error {
	if err := checkPacket(b); err != nil {
		return err
	}
	if Type(b[1]) != TypeEnvelope {
		return fmt.Errorf("failed to parse envelope: packet type 0x%02x: %w", b[1], ErrType)
	}
	body := b[PrefixSize : len(b)-CRCSize]
	if len(body) < EnvelopeHeaderSize {
		return fmt.Errorf("failed to parse envelope: %d-byte body: %w", len(body), ErrShort)
	}
	le := binary.LittleEndian
	*e = Envelope{Seq: le.Uint32(body), LastSeq: le.Uint32(body[4:]), TimeUS: le.Uint64(body[8:]), Rate: le.Uint32(body[16:]),
		Samples: le.Uint32(body[20:]), N: le.Uint32(body[24:]), Phase: le.Uint32(body[28:]),
		Channels: body[32], SampleType: SampleType(body[33]), Points: le.Uint16(body[34:]), Data: body[EnvelopeHeaderSize:]}
	if err := e.check(); err != nil {
		return fmt.Errorf("failed to parse %w", err)
	}
	return nil
}

// AppendEnvelopeOf computes the envelope of frames at n sample instants
// per point, the first covered instant sitting at phase inside its point,
// and appends its packet to dst: the one computation behind every
// envelope serve sends. frames is ranged over twice; they must be whole
// consecutive frames, and those with samples of one channel count and
// sample type (rate, channels and sample type are those of the first
// frame with samples). It fails if the packet would exceed MaxPacketSize.
func AppendEnvelopeOf(dst []byte, n, phase uint32, frames iter.Seq[*Frame]) ([]byte, error) {
	e, err := envelopeHeader(n, phase, frames)
	if err != nil {
		return dst, fmt.Errorf("failed to encode %w", err)
	}
	if size := EnvelopeHeaderSize + e.PayloadSize(); size > MaxBodySize {
		return dst, fmt.Errorf("failed to encode envelope of frames %d..%d: %d-byte body: %w", e.Seq, e.LastSeq, size, ErrTooLarge)
	}
	dst, start := appendPrefix(dst, TypeEnvelope)
	dst = appendEnvelopeHeader(dst, &e)
	at := len(dst)
	dst = append(dst, make([]byte, e.PayloadSize())...)
	fo := newFolder(&e, dst[at:])
	for f := range frames {
		fo.frame(f)
	}
	fo.end()
	return finish(dst, start)
}

// envelopeHeader works out the header of the envelope of frames.
func envelopeHeader(n, phase uint32, frames iter.Seq[*Frame]) (Envelope, error) {
	e := Envelope{N: n, Phase: phase}
	seen := false
	for f := range frames {
		switch {
		case !seen:
			e.Seq, e.TimeUS, e.Rate, e.Channels, e.SampleType = f.Seq, f.TimeUS, f.Rate, f.Channels, f.SampleType
		case f.Count > 0 && e.Samples == 0:
			e.TimeUS, e.Rate, e.Channels, e.SampleType = f.TimeUS, f.Rate, f.Channels, f.SampleType
		case f.Count > 0 && (f.Channels != e.Channels || f.SampleType != e.SampleType):
			return e, fmt.Errorf("envelope: frame %d has %d channels of %s, frame %d %d of %s: %w",
				f.Seq, f.Channels, f.SampleType, e.Seq, e.Channels, e.SampleType, ErrField)
		}
		seen = true
		e.LastSeq = f.Seq
		e.Samples += uint32(f.Count)
	}
	if !seen {
		return e, fmt.Errorf("envelope of no frames: %w", ErrShort)
	}
	p := EnvelopePoints(phase, e.Samples, n)
	if p > math.MaxUint16 {
		return e, fmt.Errorf("envelope of frames %d..%d: %d points: %w", e.Seq, e.LastSeq, p, ErrTooLarge)
	}
	e.Points = uint16(p)
	return e, e.checkHeader()
}

// folder accumulates the min and max of each channel over a point and
// writes each finished point into out.
type folder struct {
	st       SampleType
	n, pos   uint32 // grid width; position inside the current point
	held     int    // sample instants in the current point
	lo, hi   []int64
	flo, fhi []float64
	out      []byte
}

func newFolder(e *Envelope, out []byte) *folder {
	nch := int(e.Channels)
	fo := &folder{st: e.SampleType, n: e.N, pos: e.Phase, out: out,
		lo: make([]int64, nch), hi: make([]int64, nch), flo: make([]float64, nch), fhi: make([]float64, nch)}
	fo.reset()
	return fo
}

func (fo *folder) reset() {
	for c := range fo.lo {
		fo.lo[c], fo.hi[c] = math.MaxInt64, math.MinInt64
		fo.flo[c], fo.fhi[c] = math.Inf(1), math.Inf(-1)
	}
	fo.held = 0
}

// frame folds f's samples in, point by point: for each stretch of f
// inside one point, a tight loop per channel.
func (fo *folder) frame(f *Frame) {
	nch, count := int(f.Channels), int(f.Count)
	for i := 0; i < count; {
		take := min(count-i, int(fo.n-fo.pos))
		for c := 0; c < nch; c++ {
			fo.fold(f.Data, nch, c, i, i+take)
		}
		i += take
		fo.held += take
		if fo.pos += uint32(take); fo.pos == fo.n {
			fo.emit()
		}
	}
}

// fold takes sample instants i0..i1-1 of channel c of data (nch
// interleaved channels) into the current point.
func (fo *folder) fold(data []byte, nch, c, i0, i1 int) {
	le := binary.LittleEndian
	switch fo.st {
	case F32:
		lo, hi := fo.flo[c], fo.fhi[c]
		for i := i0; i < i1; i++ {
			x := float64(math.Float32frombits(le.Uint32(data[(i*nch+c)*4:])))
			if x < lo { // comparisons, not min and max: NaN is skipped, not spread
				lo = x
			}
			if x > hi {
				hi = x
			}
		}
		fo.flo[c], fo.fhi[c] = lo, hi
		return
	}
	lo, hi := fo.lo[c], fo.hi[c]
	switch fo.st {
	case U16:
		for i := i0; i < i1; i++ {
			v := int64(le.Uint16(data[(i*nch+c)*2:]))
			lo, hi = min(lo, v), max(hi, v)
		}
	case I16:
		for i := i0; i < i1; i++ {
			v := int64(int16(le.Uint16(data[(i*nch+c)*2:])))
			lo, hi = min(lo, v), max(hi, v)
		}
	case I32:
		for i := i0; i < i1; i++ {
			v := int64(int32(le.Uint32(data[(i*nch+c)*4:])))
			lo, hi = min(lo, v), max(hi, v)
		}
	}
	fo.lo[c], fo.hi[c] = lo, hi
}

// emit writes the current point, if it holds any instant, and starts the next.
func (fo *folder) emit() {
	fo.pos = 0
	if fo.held == 0 {
		return
	}
	sz := fo.st.Size()
	le := binary.LittleEndian
	for c := range fo.lo {
		lo, hi := fo.out[:sz], fo.out[sz:2*sz]
		switch fo.st {
		case U16, I16:
			le.PutUint16(lo, uint16(fo.lo[c]))
			le.PutUint16(hi, uint16(fo.hi[c]))
		case I32:
			le.PutUint32(lo, uint32(fo.lo[c]))
			le.PutUint32(hi, uint32(fo.hi[c]))
		case F32:
			l, h := fo.flo[c], fo.fhi[c]
			if l > h { // only NaN
				l, h = math.NaN(), math.NaN()
			}
			le.PutUint32(lo, math.Float32bits(float32(l)))
			le.PutUint32(hi, math.Float32bits(float32(h)))
		}
		fo.out = fo.out[2*sz:]
	}
	fo.reset()
}

// end writes a partial last point.
func (fo *folder) end() { fo.emit() }

// AppendEnvelopeJSON appends e as the JSON object serve sends to
// ?format=json&envelope=N clients:
//
//	{"type":"envelope","epoch":"1f0c9a2e","seq":N,"last_seq":N,"rate":HZ,"channels":C,"sample_type":"i16",
//	 "t_dev_us":N,"n":N,"phase":N,"samples":N,"min":[[ch0...],[ch1...]],"max":[[ch0...],[ch1...]]}
//
// An empty epoch is left out; NaN and infinities are null.
func AppendEnvelopeJSON(dst []byte, e *Envelope, epoch string) []byte {
	dst = appendEpoch(append(dst, `{"type":"envelope",`...), epoch)
	for _, kv := range [...]struct {
		k string
		v uint64
	}{{`"seq":`, uint64(e.Seq)}, {`,"last_seq":`, uint64(e.LastSeq)}, {`,"rate":`, uint64(e.Rate)}, {`,"channels":`, uint64(e.Channels)}} {
		dst = strconv.AppendUint(append(dst, kv.k...), kv.v, 10)
	}
	dst = append(append(append(dst, `,"sample_type":"`...), e.SampleType.String()...), '"')
	for _, kv := range [...]struct {
		k string
		v uint64
	}{{`,"t_dev_us":`, e.TimeUS}, {`,"n":`, uint64(e.N)}, {`,"phase":`, uint64(e.Phase)}, {`,"samples":`, uint64(e.Samples)}} {
		dst = strconv.AppendUint(append(dst, kv.k...), kv.v, 10)
	}
	dst = appendEnvelopeValues(append(dst, `,"min":`...), e, 0)
	dst = appendEnvelopeValues(append(dst, `,"max":`...), e, 1)
	return append(dst, '}')
}

// appendEnvelopeValues appends one array per channel of the points'
// minima (which 0) or maxima (1).
func appendEnvelopeValues(dst []byte, e *Envelope, which int) []byte {
	dst = append(dst, '[')
	for ch := 0; ch < int(e.Channels); ch++ {
		if ch > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, '[')
		for k := 0; k < int(e.Points); k++ {
			if k > 0 {
				dst = append(dst, ',')
			}
			lo, hi := e.MinMax(k, ch)
			v := lo
			if which == 1 {
				v = hi
			}
			switch {
			case math.IsNaN(v) || math.IsInf(v, 0):
				dst = append(dst, "null"...)
			case e.SampleType == F32:
				dst = strconv.AppendFloat(dst, v, 'g', -1, 32)
			default:
				dst = strconv.AppendInt(dst, int64(v), 10)
			}
		}
		dst = append(dst, ']')
	}
	return append(dst, ']')
}
