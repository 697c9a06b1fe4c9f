package frame_test

import (
	"bytes"
	"encoding/hex"
	"errors"
	"reflect"
	"testing"

	"github.com/wsbridge/wsbridge/internal/frame"
	"github.com/wsbridge/wsbridge/internal/frame/frametest"
)

// encodeCase builds the packet of a golden case with this package's encoder.
func encodeCase(t *testing.T, c *frametest.Case) []byte {
	t.Helper()
	p := c.Packet
	if p.Type == frame.TypeData {
		p.Frame.Data = make([]byte, p.Frame.PayloadSize())
		for i, v := range c.Values {
			p.Frame.PutFloat(i/int(p.Frame.Channels), i%int(p.Frame.Channels), v)
		}
	}
	b, err := encode(&p)
	if err != nil {
		t.Fatalf("encode: %v", err)
	}
	return b
}

// encode builds p with the encoder of its type (a data frame's payload is
// p.Frame.Data).
func encode(p *frame.Packet) ([]byte, error) {
	switch p.Type {
	case frame.TypeData:
		return frame.AppendFrame(nil, &p.Frame)
	case frame.TypeInfo:
		return frame.AppendInfo(nil, &p.Info)
	case frame.TypeLog:
		return frame.AppendLog(nil, p.Text)
	case frame.TypeReply:
		return frame.AppendReply(nil, p.Status, p.Text)
	}
	return nil, frame.ErrType
}

func TestGoldenEncode(t *testing.T) {
	for _, c := range frametest.Golden {
		t.Run(c.Name, func(t *testing.T) {
			got := encodeCase(t, &c)
			if hex.EncodeToString(got) != c.Hex {
				t.Errorf("packet\n got %x\nwant %s", got, c.Hex)
			}
			if s := frame.AppendSerial(nil, got); hex.EncodeToString(s) != c.Serial {
				t.Errorf("serial\n got %x\nwant %s", s, c.Serial)
			}
		})
	}
}

func TestGoldenParse(t *testing.T) {
	for _, c := range frametest.Golden {
		t.Run(c.Name, func(t *testing.T) {
			var p frame.Packet
			if err := frame.Parse(&p, c.Bytes()); err != nil {
				t.Fatalf("Parse: %v", err)
			}
			checkPacket(t, &p, &c)
		})
	}
}

func TestGoldenStream(t *testing.T) {
	var stream []byte
	for _, c := range frametest.Golden {
		stream = append(stream, c.SerialBytes()...)
	}
	var c frametest.Collector // the decoder passes every frame on; the receiver classifies
	d := frame.NewDecoder(c.Packet)
	for _, b := range stream { // one byte at a time: the hardest split
		d.Write([]byte{b})
	}
	got, events := c.Packets, c.Events
	// Seqs 0, 7, 0xFFFFFFFF, 42, 1: 7 reveals the gap 1..6; 0xFFFFFFFF is
	// 9 behind the expected 8 (a duplicate or late frame); 42 reveals
	// 8..41; 1 is behind again.
	wantEvents := []frame.SeqEvent{
		{Kind: frame.SeqGap, Seq: 7, From: 1, To: 6, Lost: 6},
		{Kind: frame.SeqDuplicate, Seq: 0xFFFFFFFF},
		{Kind: frame.SeqGap, Seq: 42, From: 8, To: 41, Lost: 34},
		{Kind: frame.SeqDuplicate, Seq: 1},
	}
	if !reflect.DeepEqual(events, wantEvents) {
		t.Errorf("events\n got %+v\nwant %+v", events, wantEvents)
	}
	if len(got) != len(frametest.Golden) {
		t.Fatalf("decoded %d packets, want %d; stats %+v", len(got), len(frametest.Golden), d.Stats())
	}
	for i := range got {
		checkPacket(t, &got[i], &frametest.Golden[i])
	}
	want := frame.Stats{Bytes: uint64(len(stream)), Packets: 9, Frames: 5}
	if st := d.Stats(); st != want {
		t.Errorf("stats\n got %+v\nwant %+v", st, want)
	}
}

func checkPacket(t *testing.T, p *frame.Packet, c *frametest.Case) {
	t.Helper()
	if !bytes.Equal(p.Raw, c.Bytes()) {
		t.Errorf("Raw %x, want %s", p.Raw, c.Hex)
	}
	want := c.Packet
	if p.Type != want.Type {
		t.Fatalf("type %v, want %v", p.Type, want.Type)
	}
	switch p.Type {
	case frame.TypeData:
		f := p.Frame
		f.Data = nil
		if !reflect.DeepEqual(f, want.Frame) {
			t.Errorf("header %+v, want %+v", f, want.Frame)
		}
		for i, v := range c.Values {
			if got := p.Frame.Float(i/int(f.Channels), i%int(f.Channels)); got != v {
				t.Errorf("sample %d = %v, want %v", i, got, v)
			}
		}
	case frame.TypeInfo:
		if !reflect.DeepEqual(p.Info, want.Info) {
			t.Errorf("info %+v, want %+v", p.Info, want.Info)
		}
	default:
		if p.Status != want.Status || string(p.Text) != string(want.Text) {
			t.Errorf("status %d text %q, want %d %q", p.Status, p.Text, want.Status, want.Text)
		}
	}
}

// TestFailingParse: Parse refuses every malformed packet with the error
// the table names, and DecodeCOBS then Parse does the same from the
// serial bytes (a COBS fault fails in DecodeCOBS).
func TestFailingParse(t *testing.T) {
	for _, c := range frametest.Failing {
		t.Run(c.Name, func(t *testing.T) {
			var p frame.Packet
			if c.Hex != "" {
				if err := frame.Parse(&p, c.Bytes()); !errors.Is(err, c.Err) {
					t.Errorf("Parse: %v, want %v", err, c.Err)
				}
			}
			s := c.SerialBytes()
			pkt, err := frame.DecodeCOBS(nil, s[:len(s)-1])
			if err == nil {
				err = frame.Parse(&p, pkt)
			}
			if !errors.Is(err, c.Err) {
				t.Errorf("from the serial bytes: %v, want %v", err, c.Err)
			}
		})
	}
}

// TestFailingStream: the streaming decoder passes on no packet for a
// malformed one, counts it (a CRC error, a malformed packet, an oversize
// run or noise) and decodes the good packet that follows it.
func TestFailingStream(t *testing.T) {
	good := &frametest.Golden[1]
	for _, c := range frametest.Failing {
		t.Run(c.Name, func(t *testing.T) {
			var got []frame.Packet
			d := frame.NewDecoder(func(p *frame.Packet) { got = append(got, p.Clone()) })
			s := c.SerialBytes()
			d.Write(s)
			d.Write(good.SerialBytes())
			if len(got) != 1 {
				t.Fatalf("decoded %d packets, want only the good one after the bad", len(got))
			}
			checkPacket(t, &got[0], good)
			st := d.Stats()
			want := frame.Stats{Bytes: uint64(len(s) + len(good.Serial)/2), Packets: 1, Frames: 1, NoiseBytes: uint64(len(s) - 1)}
			switch {
			case errors.Is(c.Err, frame.ErrCRC):
				want.CRCErrors = 1
			case errors.Is(c.Err, frame.ErrTooLarge):
				want.Oversize = 1
			case looksLikePacket(s):
				want.Malformed = 1
			}
			if st != want {
				t.Errorf("stats\n got %+v\nwant %+v", st, want)
			}
		})
	}
}

// TestEncodersRefuse: what decoders refuse, the encoders will not build,
// with the same error.
func TestEncodersRefuse(t *testing.T) {
	for _, c := range frametest.Failing {
		if c.Refuse == nil {
			continue
		}
		t.Run(c.Name, func(t *testing.T) {
			if _, err := encode(c.Refuse); !errors.Is(err, c.Err) {
				t.Errorf("encoding %+v: %v, want %v", c.Refuse, err, c.Err)
			}
		})
	}
}

// looksLikePacket: the serial bytes s decode (in part at least) to a v1
// prefix of a known type, which the decoder counts as a malformed packet
// rather than noise.
func looksLikePacket(s []byte) bool {
	pkt, _ := frame.DecodeCOBS(nil, s[:len(s)-1])
	return len(pkt) >= frame.Overhead && pkt[0] == frame.Version &&
		pkt[1] >= byte(frame.TypeData) && pkt[1] <= byte(frame.TypeReply)
}
