package adcsim

import (
	"bytes"
	"testing"
	"time"

	"github.com/wsbridge/wsbridge/internal/frame"
	"github.com/wsbridge/wsbridge/internal/frame/frametest"
	"github.com/wsbridge/wsbridge/internal/testsupport"
)

// TestGoldenFramesEncoding: the simulator's encoding of every golden data
// frame is the golden serial bytes.
func TestGoldenFramesEncoding(t *testing.T) {
	d, err := NewDevice(counterConfig(WireFrames, 16000))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, c := range frametest.Golden {
		if c.Packet.Type != frame.TypeData {
			continue
		}
		f := c.Packet.Frame
		f.Data = make([]byte, f.PayloadSize())
		for i, v := range c.Values {
			f.PutFloat(i/int(f.Channels), i%int(f.Channels), v)
		}
		got, err := d.appendEncoded(nil, &f)
		if err != nil {
			t.Fatalf("%s: %v", c.Name, err)
		}
		if !bytes.Equal(got, c.SerialBytes()) {
			t.Errorf("%s:\n got %x\nwant %s", c.Name, got, c.Serial)
		}
		n++
	}
	if n < 5 {
		t.Fatalf("only %d golden data cases", n)
	}
}

// TestGoldenCounterFrameFromDevice: a u16 counter device at 16 kHz with
// 4-sample frames generates golden case 0 as its first frame.
func TestGoldenCounterFrameFromDevice(t *testing.T) {
	cfg := counterConfig(WireFrames, 16000)
	cfg.SampleType, cfg.FrameSamples = "u16", 4
	d, err := NewDevice(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.appendFrame(); err != nil {
		t.Fatal(err)
	}
	want := frametest.Golden[0]
	if want.Name != "u16 counter, one channel, seq 0" {
		t.Fatalf("golden case 0 is %q", want.Name)
	}
	if !bytes.Equal(d.out, want.SerialBytes()) {
		t.Fatalf("first frame:\n got %x\nwant %s", d.out, want.Serial)
	}
}

// TestGoldenReplies: the device's answers to "rate 8000" and "foo", read
// from a real pty, are the golden reply packets byte for byte.
func TestGoldenReplies(t *testing.T) {
	cfg := counterConfig(WireFrames, 16000)
	r := startRig(t, cfg)
	rec := newRecorder()
	pumped := pump(r.slave, rec)
	r.slave.Write([]byte("rate 8000\nfoo\n"))
	testsupport.WaitFor(t, 10*time.Second, "two replies", func() bool { return len(replies(rec)) >= 2 })
	r.drain(t, pumped)
	got := replies(rec)
	for i, name := range []string{"reply ok", "reply error"} {
		c := goldenCase(t, name)
		if !bytes.Equal(got[i].Raw, c.Bytes()) {
			t.Errorf("%s:\n got %x\nwant %s", name, got[i].Raw, c.Hex)
		}
	}
}

func replies(rec *recorder) []frame.Packet {
	ps, _ := rec.snapshot()
	var out []frame.Packet
	for _, p := range ps {
		if p.Type == frame.TypeReply {
			out = append(out, p)
		}
	}
	return out
}

func goldenCase(t *testing.T, name string) frametest.Case {
	for _, c := range frametest.Golden {
		if c.Name == name {
			return c
		}
	}
	t.Fatalf("no golden case %q", name)
	return frametest.Case{}
}
