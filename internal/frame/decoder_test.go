package frame_test

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/wsbridge/wsbridge/internal/frame"
	"github.com/wsbridge/wsbridge/internal/frame/frametest"
)

// randFrame returns a valid random frame with sequence number seq.
func randFrame(r *rand.Rand, seq uint32) frame.Frame {
	st := []frame.SampleType{frame.U16, frame.I16, frame.I32, frame.F32}[r.IntN(4)]
	f := frame.Frame{Seq: seq, TimeUS: r.Uint64(), Rate: r.Uint32(), Channels: uint8(1 + r.IntN(8)),
		SampleType: st, Count: uint16(r.IntN(300))}
	f.Data = make([]byte, f.PayloadSize())
	for i := range f.Data {
		if r.IntN(4) == 0 {
			f.Data[i] = 0 // plenty of zeros to exercise COBS
		} else {
			f.Data[i] = byte(r.Uint32())
		}
	}
	return f
}

// stream encodes n consecutive random frames for the serial line.
func stream(r *rand.Rand, first uint32, n int) ([]byte, []frame.Frame) {
	var out []byte
	frames := make([]frame.Frame, n)
	for i := range frames {
		frames[i] = randFrame(r, first+uint32(i))
		pkt, err := frame.AppendFrame(nil, &frames[i])
		if err != nil {
			panic(err)
		}
		out = frame.AppendSerial(out, pkt)
	}
	return out, frames
}

// decodeSplit feeds b to a new decoder in chunks cut at random points.
func decodeSplit(r *rand.Rand, b []byte) ([]frame.Frame, frame.Stats) {
	var got []frame.Frame
	d := frame.NewDecoder(func(p *frame.Packet) {
		if p.Type == frame.TypeData {
			c := p.Clone()
			got = append(got, c.Frame)
		}
	})
	for len(b) > 0 {
		n := 1 + r.IntN(min(len(b), 3000))
		d.Write(b[:n])
		b = b[n:]
	}
	return got, d.Stats()
}

func TestRoundTripRandomSplits(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for trial := 0; trial < 50; trial++ {
		b, want := stream(r, r.Uint32(), 20)
		got, st := decodeSplit(r, b)
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("trial %d: frames differ", trial)
		}
		if st.NoiseBytes != 0 || st.CRCErrors != 0 || st.Frames != 20 {
			t.Fatalf("trial %d: stats %+v", trial, st)
		}
	}
}

func TestResyncAfterGarbage(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for trial := 0; trial < 50; trial++ {
		garbage := make([]byte, r.IntN(5000))
		for i := range garbage {
			garbage[i] = byte(r.Uint32())
		}
		b, want := stream(r, 100, 10)
		// Garbage before the first packet, as the ESP32 ROM boot log; the
		// first packet's own leading delimiter is the sender's job: add it.
		in := append(append(garbage, 0), b...)
		got, st := decodeSplit(r, in)
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("trial %d: got %d frames, want 10 (stats %+v)", trial, len(got), st)
		}
		if st.NoiseBytes != uint64(len(garbage)-bytes.Count(garbage, []byte{0})) {
			t.Fatalf("trial %d: noise %d, garbage %d bytes with %d zeros", trial, st.NoiseBytes,
				len(garbage), bytes.Count(garbage, []byte{0}))
		}
	}
}

func TestBootLogWithoutLeadingDelimiter(t *testing.T) {
	// Garbage glued to the first packet loses that packet, and only it.
	r := rand.New(rand.NewPCG(5, 6))
	b, want := stream(r, 0, 5)
	in := append([]byte("ets Jun  8 2016 00:22:57\r\nrst:0x1 (POWERON_RESET),boot:0x13\r\n"), b...)
	got, st := decodeSplit(r, in)
	if !reflect.DeepEqual(got, want[1:]) {
		t.Fatalf("got %d frames, want frames 1..4", len(got))
	}
	if st.Frames != 4 || st.NoiseBytes == 0 {
		t.Fatalf("stats %+v", st)
	}
}

func TestCorruptedFrameDroppedAndGapExact(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	var in []byte
	for i := 0; i < 10; i++ {
		f := randFrame(r, uint32(i))
		f.Count = 10
		f.Data = bytes.Repeat([]byte{0x11}, f.PayloadSize())
		pkt, _ := frame.AppendFrame(nil, &f)
		if i == 4 {
			pkt[len(pkt)/2] ^= 0x40 // one flipped bit in the middle
		}
		in = frame.AppendSerial(in, pkt)
	}
	var c frametest.Collector
	d := frame.NewDecoder(c.Packet)
	d.Write(in)
	var got []uint32
	for _, p := range c.Packets {
		got = append(got, p.Frame.Seq)
	}
	events := c.Events
	if want := []uint32{0, 1, 2, 3, 5, 6, 7, 8, 9}; !reflect.DeepEqual(got, want) {
		t.Fatalf("seqs %v, want %v", got, want)
	}
	if want := []frame.SeqEvent{{Kind: frame.SeqGap, Seq: 5, From: 4, To: 4, Lost: 1}}; !reflect.DeepEqual(events, want) {
		t.Fatalf("events %+v, want %+v", events, want)
	}
	if st := d.Stats(); st.CRCErrors != 1 || st.Frames != 9 {
		t.Fatalf("stats %+v, want 1 CRC error and 9 frames", st)
	}
}

func TestOversizeRunSkippedWithoutBuffering(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	big := bytes.Repeat([]byte{0x55}, 3*frame.MaxEncodedSize)
	b, want := stream(r, 0, 3)
	in := append(append(big, 0), b...)
	got, st := decodeSplit(r, in)
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %d frames, want 3", len(got))
	}
	if st.Oversize != 1 || st.NoiseBytes != uint64(len(big)) {
		t.Fatalf("stats %+v, want 1 oversize and %d noise bytes", st, len(big))
	}
}

func TestParseErrors(t *testing.T) {
	good, _ := frame.AppendLog(nil, []byte("hello"))
	cases := map[string]struct {
		b    []byte
		want error
	}{
		"short":      {good[:5], frame.ErrShort},
		"version":    {append([]byte{2}, good[1:]...), frame.ErrVersion},
		"length":     {append(append([]byte{}, good...), 0), frame.ErrLength},
		"crc":        {append(append([]byte{}, good[:len(good)-1]...), good[len(good)-1]^1), frame.ErrCRC},
		"type":       {reCRC(append([]byte{1, 9}, good[2:]...)), frame.ErrType},
		"sampletype": {reCRC(badSampleType()), frame.ErrSampleType},
	}
	for name, c := range cases {
		var p frame.Packet
		if err := frame.Parse(&p, c.b); !errors.Is(err, c.want) {
			t.Errorf("%s: err %v, want %v", name, err, c.want)
		}
	}
}
