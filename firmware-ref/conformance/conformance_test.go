package conformance

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/wsbridge/wsbridge/internal/frame"
	"github.com/wsbridge/wsbridge/internal/frame/frametest"
)

// dataCmd is the host command that encodes frame f with the streaming API
// fed in pieces of chunk bytes.
func dataCmd(f *frame.Frame, chunk int) string {
	return fmt.Sprintf("D %d %d %d %d %d %d %s %d", f.Seq, f.TimeUS, f.Rate, f.Channels,
		f.SampleType, f.Count, hx(f.Data), chunk)
}

func infoCmd(in *frame.DeviceInfo) string {
	s := fmt.Sprintf("I %d %d %d %d %s %s %d", in.Rate, in.Channels, in.SampleType, in.FrameSamples,
		hx([]byte(in.Name)), hx([]byte(in.Firmware)), len(in.ChannelInfo))
	for _, c := range in.ChannelInfo {
		s += " " + hx([]byte(c.Name)) + " " + hx([]byte(c.Unit))
	}
	return s
}

// packetCmd is the host command for any golden packet, or for a packet
// to refuse (its Frame.Data given).
func packetCmd(t *testing.T, c *frametest.Case) string {
	p := &c.Packet
	switch p.Type {
	case frame.TypeData:
		f := p.Frame
		if f.Data == nil { // a golden case: its Values
			f.Data = make([]byte, f.PayloadSize())
			for i, v := range c.Values {
				f.PutFloat(i/int(f.Channels), i%int(f.Channels), v)
			}
		}
		return dataCmd(&f, 7)
	case frame.TypeInfo:
		return infoCmd(&p.Info)
	case frame.TypeLog:
		return "L " + hx(p.Text)
	case frame.TypeReply:
		return fmt.Sprintf("R %d %s", p.Status, hx(p.Text))
	}
	t.Fatalf("golden case %q: unknown type %v", c.Name, p.Type)
	return ""
}

// TestGolden: the C encoder, with each CRC implementation, produces the
// golden packet and serial bytes exactly, including the COBS 0xFF-block case.
func TestGolden(t *testing.T) {
	cmds := make([]string, len(frametest.Golden))
	for i := range frametest.Golden {
		cmds[i] = packetCmd(t, &frametest.Golden[i])
	}
	for _, mode := range crcModes {
		out := runHost(t, mode, cmds)
		for i, c := range frametest.Golden {
			if got := field(t, out[i], 0); got != c.Hex {
				t.Errorf("crc mode %d, %s: packet\n got %s\nwant %s", mode, c.Name, got, c.Hex)
			}
			if got := field(t, out[i], 1); got != c.Serial {
				t.Errorf("crc mode %d, %s: serial\n got %s\nwant %s", mode, c.Name, got, c.Serial)
			}
			if c.Packet.Type != frame.TypeData {
				continue
			}
			if got := field(t, out[i], 2); got != c.Serial {
				t.Errorf("crc mode %d, %s: streamed serial\n got %s\nwant %s", mode, c.Name, got, c.Serial)
			}
			if got := field(t, out[i], 3); got != "capok" {
				t.Errorf("crc mode %d, %s: exact-size buffer check %s", mode, c.Name, got)
			}
		}
	}
}

// randomPayload fills n bytes in one of several patterns that exercise COBS:
// random, no zero at all (long 254-byte runs), all zero, sparse zeros.
func randomPayload(r *rand.Rand, n int) []byte {
	b := make([]byte, n)
	switch r.IntN(4) {
	case 0:
		for i := range b {
			b[i] = byte(r.UintN(256))
		}
	case 1:
		for i := range b {
			b[i] = byte(1 + r.UintN(255))
		}
	case 2:
	case 3:
		for i := range b {
			if r.IntN(300) != 0 {
				b[i] = byte(1 + r.UintN(255))
			}
		}
	}
	return b
}

var sampleTypes = []frame.SampleType{frame.U16, frame.I16, frame.I32, frame.F32}

// randomFrame returns a valid frame with the given seq: every sample type,
// 1..8 channels, counts from 0 up to the largest that fits a packet.
func randomFrame(r *rand.Rand, seq uint32) frame.Frame {
	f := frame.Frame{Seq: seq, TimeUS: r.Uint64(), Rate: r.Uint32(),
		Channels: uint8(1 + r.IntN(8)), SampleType: sampleTypes[r.IntN(4)]}
	perInstant := int(f.Channels) * f.SampleType.Size()
	switch k := r.IntN(20); {
	case k == 0:
		f.Count = uint16(frame.MaxPayload / perInstant) // as large as a packet allows
	case k <= 2:
		f.Count = uint16(r.IntN(3)) // 0, 1 or 2
	case k <= 4:
		f.Count = uint16(254 / perInstant * (1 + r.IntN(3))) // around the COBS block length
	default:
		f.Count = uint16(1 + r.IntN(400))
	}
	f.Data = randomPayload(r, f.PayloadSize())
	return f
}

// TestRandomFrames: 500 random frames, seq wrapping through 2^32: the C
// bytes equal the Go encoder's, and the Go Decoder gets back every frame
// unchanged with no noise, CRC, malformed or sequence events.
func TestRandomFrames(t *testing.T) {
	const n = 500
	seed := uint64(0x77736272)
	r := rand.New(rand.NewPCG(seed, 6))
	frames := make([]frame.Frame, n)
	cmds := make([]string, n)
	start := uint32(0xFFFFFFFF - n/2)
	for i := range frames {
		frames[i] = randomFrame(r, start+uint32(i))
		cmds[i] = dataCmd(&frames[i], 1+r.IntN(600))
	}
	var reference []string
	for _, mode := range crcModes {
		out := runHost(t, mode, cmds)
		if reference == nil {
			reference = out
			continue
		}
		for i := range out {
			if out[i] != reference[i] {
				t.Fatalf("crc mode %d differs from mode 0 on frame %d", mode, i)
			}
		}
	}
	var stream []byte
	for i := range frames {
		stream = append(stream, checkFrameBytes(t, &frames[i], reference[i])...)
	}
	decodeAll(t, frames, stream, nil)
	// What a sketch sends after boot: ROM boot log noise, a lone 0x00, frames.
	boot := []byte("ets Jun  8 2016 00:22:57\r\n\r\nrst:0x1 (POWERON_RESET),boot:0x13 \xf3\xc1\xff")
	decodeAll(t, frames, append(append(boot, 0), stream...), boot)
}

// checkFrameBytes compares one host result line with the Go encoder and
// returns the C serial bytes.
func checkFrameBytes(t *testing.T, f *frame.Frame, line string) []byte {
	t.Helper()
	pkt, err := frame.AppendFrame(nil, f)
	if err != nil {
		t.Fatalf("Go AppendFrame(seq %d): %v", f.Seq, err)
	}
	ser := frame.AppendSerial(nil, pkt)
	if got := unhx(t, field(t, line, 0)); !bytes.Equal(got, pkt) {
		t.Fatalf("seq %d (%d ch, %s, count %d): C packet differs from Go", f.Seq, f.Channels, f.SampleType, f.Count)
	}
	cser := unhx(t, field(t, line, 1))
	if !bytes.Equal(cser, ser) {
		t.Fatalf("seq %d (%d ch, %s, count %d): C serial bytes differ from Go", f.Seq, f.Channels, f.SampleType, f.Count)
	}
	if field(t, line, 2) != field(t, line, 1) {
		t.Fatalf("seq %d: streamed encoding differs from one-shot encoding", f.Seq)
	}
	if c := field(t, line, 3); c != "capok" {
		t.Fatalf("seq %d: exact-size buffer check: %s", f.Seq, c)
	}
	return cser
}

// decodeAll feeds stream to a frame.Decoder in uneven writes and checks it
// yields exactly frames, with noise only for the bytes of garbage.
func decodeAll(t *testing.T, frames []frame.Frame, stream, garbage []byte) {
	t.Helper()
	var got []frame.Frame
	var events []frame.SeqEvent
	var seq frame.SeqTracker // the decoder hands frames on as read: follow their seqs here
	d := frame.NewDecoder(func(p *frame.Packet) {
		c := p.Clone()
		got = append(got, c.Frame)
		if ev := seq.Observe(c.Frame.Seq); ev.Kind >= frame.SeqGap {
			events = append(events, ev)
		}
	})
	for i := 0; len(stream) > 0; i++ {
		k := min(len(stream), 1+(i*7919)%4096)
		d.Write(stream[:k])
		stream = stream[k:]
	}
	if len(got) != len(frames) {
		t.Fatalf("decoded %d frames, want %d", len(got), len(frames))
	}
	for i := range frames {
		if !reflect.DeepEqual(got[i], frames[i]) {
			t.Fatalf("frame %d decoded as %+v, want %+v", i, hdr(got[i]), hdr(frames[i]))
		}
	}
	st := d.Stats()
	want := frame.Stats{Bytes: st.Bytes, Packets: uint64(len(frames)), Frames: uint64(len(frames)),
		NoiseBytes: uint64(len(garbage))}
	if st != want || len(events) != 0 {
		t.Fatalf("decoder stats %+v, seq events %v; want %+v and none", st, events, want)
	}
}

// hdr is a frame without its payload, for readable failures.
func hdr(f frame.Frame) frame.Frame {
	f.Data = f.Data[:min(len(f.Data), 8)]
	return f
}
