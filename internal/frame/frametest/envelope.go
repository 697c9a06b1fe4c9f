package frametest

import (
	"encoding/binary"
	"encoding/hex"
	"math"

	"github.com/wsbridge/wsbridge/internal/frame"
)

// EnvelopeCase is one golden envelope packet (type 0x05, what serve sends
// to ?envelope=N clients): the struct, its values (point by point, channel
// by channel, min then max, as the payload holds them; NaN where the point
// held only NaN) and the packet bytes.
//
// The bytes were computed by a separate program (Python's struct and a
// bitwise CRC-32C written from the published algorithm), not by this
// package's encoder.
type EnvelopeCase struct {
	Name     string
	Envelope frame.Envelope // Data nil: Values holds the payload
	Values   []float64
	Hex      string
}

// Bytes returns the packet.
func (c *EnvelopeCase) Bytes() []byte { return mustHex(c.Hex) }

// Want returns Envelope with Data filled from Values.
func (c *EnvelopeCase) Want() frame.Envelope {
	e := c.Envelope
	sz := e.SampleType.Size()
	e.Data = make([]byte, len(c.Values)*sz)
	for i, v := range c.Values {
		b := e.Data[i*sz:]
		switch e.SampleType {
		case frame.U16, frame.I16:
			binary.LittleEndian.PutUint16(b, uint16(int64(v)))
		case frame.I32:
			binary.LittleEndian.PutUint32(b, uint32(int64(v)))
		case frame.F32:
			binary.LittleEndian.PutUint32(b, math.Float32bits(float32(v)))
		}
	}
	return e
}

// Envelopes is the golden table of envelope packets, shared by the Go
// codec tests and the page's decoder (through golden.json). Never change
// an entry: add new ones.
var Envelopes = []EnvelopeCase{
	{
		Name: "i16 counter, n 4, two frames of 3",
		Envelope: frame.Envelope{Seq: 10, LastSeq: 11, TimeUS: 30000, Rate: 16000, Samples: 6, N: 4, Phase: 0,
			Channels: 1, SampleType: frame.I16, Points: 2},
		Values: []float64{0, 3, 4, 5},
		Hex:    "01052c000a0000000b0000003075000000000000803e0000060000000400000000000000010202000000030004000500e424917d",
	},
	{
		Name: "u16 two channels, phase 2: partial first and last point",
		Envelope: frame.Envelope{Seq: 7, LastSeq: 8, TimeUS: 437500, Rate: 16000, Samples: 7, N: 4, Phase: 2,
			Channels: 2, SampleType: frame.U16, Points: 3},
		Values: []float64{100, 101, 200, 201, 102, 105, 202, 205, 106, 106, 206, 206},
		Hex: "01053c000700000008000000fcac060000000000803e00000700000004000000020000000201030064006500c800c900" +
			"66006900ca00cd006a006a00ce00ce00a52ef015",
	},
	{
		Name: "i32 seq wrapping, extremes",
		Envelope: frame.Envelope{Seq: 0xFFFFFFFF, LastSeq: 1, TimeUS: 1 << 40, Rate: 48000, Samples: 8, N: 8, Phase: 0,
			Channels: 1, SampleType: frame.I32, Points: 1},
		Values: []float64{-8388608, 8388607},
		Hex:    "01052c00ffffffff01000000000000000001000080bb000008000000080000000000000001030100000080ffffff7f00eb12e483",
	},
	{
		Name: "f32 one channel, a point of only NaN",
		Envelope: frame.Envelope{Seq: 42, LastSeq: 42, TimeUS: 1000, Rate: 100, Samples: 8, N: 4, Phase: 0,
			Channels: 1, SampleType: frame.F32, Points: 2},
		Values: []float64{-1.25, 0.5, math.NaN(), math.NaN()},
		Hex:    "010534002a0000002a000000e80300000000000064000000080000000400000000000000010402000000a0bf0000003f0000c07f0000c07f0fd1abc9",
	},
	{
		Name: "count-0 frames only: coverage without points",
		Envelope: frame.Envelope{Seq: 5, LastSeq: 9, TimeUS: 5000, Rate: 1000, Samples: 0, N: 64, Phase: 17,
			Channels: 1, SampleType: frame.I16, Points: 0},
		Values: []float64{},
		Hex:    "0105240005000000090000008813000000000000e8030000000000004000000011000000010200006c366de8",
	},
}

// BadEnvelope is one malformed envelope packet and the frame sentinel
// frame.ParseEnvelope wraps for it. As in Failing, exactly one thing is
// wrong in each (length field and CRC are right unless they are the fault).
type BadEnvelope struct {
	Name string
	Hex  string
	Err  error
}

// Bytes returns the packet.
func (b *BadEnvelope) Bytes() []byte { return mustHex(b.Hex) }

// Kind is the error's name for decoders outside Go (see Bad.Kind).
func (b *BadEnvelope) Kind() string { return KindOf(b.Err) }

func hexOf(b []byte) string { return hex.EncodeToString(b) }

// envEdit is edit on envelope case i.
func envEdit(i int, f func(b []byte) []byte) string {
	return hexOf(edit(Envelopes[i].Hex, f))
}

// envBody is the body of envelope case i, for a packet rebuilt around it.
func envBody(i int) []byte { return body(Envelopes[i].Hex) }

// EnvelopeFailing is the table of malformed envelope packets. Never change
// an entry's meaning: add new ones.
var EnvelopeFailing = []BadEnvelope{
	{"envelope body shorter than its 36-byte header", hexOf(packet(5, envBody(0)[:30])), frame.ErrShort},
	{"a data packet where an envelope is expected", Golden[0].Hex, frame.ErrType},
	{"envelope CRC mismatch", func() string { b := mustHex(Envelopes[0].Hex); b[len(b)-1] ^= 0x80; return hexOf(b) }(), frame.ErrCRC},
	{"envelope unknown sample type 0x07", envEdit(0, func(b []byte) []byte { b[4+33] = 7; return b }), frame.ErrSampleType},
	{"envelope n 6: not a power of two", envEdit(0, func(b []byte) []byte { b[4+24] = 6; return b }), frame.ErrField},
	{"envelope n 1", envEdit(0, func(b []byte) []byte { b[4+24] = 1; return b }), frame.ErrField},
	{"envelope phase 4 with n 4", envEdit(0, func(b []byte) []byte { b[4+28] = 4; return b }), frame.ErrField},
	{"envelope last_seq before seq", envEdit(0, func(b []byte) []byte { b[4+4] = 9; return b }), frame.ErrField},
	{"envelope points 3 where phase, samples and n make 2", envEdit(0, func(b []byte) []byte { b[4+34] = 3; return b }), frame.ErrField},
	{"envelope no channels", envEdit(0, func(b []byte) []byte { b[4+32] = 0; return b }), frame.ErrLength},
	{"envelope payload 2 bytes short of 2 points", hexOf(packet(5, envBody(0)[:len(envBody(0))-2])), frame.ErrLength},
}
