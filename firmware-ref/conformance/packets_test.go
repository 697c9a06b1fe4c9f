package conformance

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"

	"github.com/wsbridge/wsbridge/internal/frame"
	"github.com/wsbridge/wsbridge/internal/frame/frametest"
)

// randomText returns n bytes without 0x00 (C strings) from printable ASCII
// and high bytes.
func randomText(r *rand.Rand, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(1 + r.UintN(255))
	}
	return string(b)
}

func randomInfo(r *rand.Rand) frame.DeviceInfo {
	lens := []int{0, 1, 12, 254, 255}
	in := frame.DeviceInfo{Rate: r.Uint32(), Channels: uint8(1 + r.IntN(8)),
		SampleType: sampleTypes[r.IntN(4)], FrameSamples: uint16(r.Uint32()),
		Name: randomText(r, lens[r.IntN(len(lens))]), Firmware: randomText(r, r.IntN(40))}
	for range r.IntN(int(in.Channels) + 1) {
		in.ChannelInfo = append(in.ChannelInfo, frame.Channel{
			Name: randomText(r, lens[r.IntN(len(lens))]), Unit: randomText(r, r.IntN(8))})
	}
	return in
}

// TestRandomInfoLogReply: device info, log and reply packets from the C
// encoder equal the Go encoder's and parse back to the same content.
func TestRandomInfoLogReply(t *testing.T) {
	r := rand.New(rand.NewPCG(2, 3))
	var cmds []string
	var want [][]byte
	for range 100 {
		in := randomInfo(r)
		pkt, err := frame.AppendInfo(nil, &in)
		if err != nil {
			t.Fatal(err)
		}
		cmds, want = append(cmds, infoCmd(&in)), append(want, pkt)
		text := randomPayload(r, []int{0, 1, 253, 254, 255, 1000}[r.IntN(6)])
		pkt, _ = frame.AppendLog(nil, text)
		cmds, want = append(cmds, "L "+hx(text)), append(want, pkt)
		status := uint8(r.IntN(2))
		pkt, _ = frame.AppendReply(nil, status, text)
		cmds, want = append(cmds, fmt.Sprintf("R %d %s", status, hx(text))), append(want, pkt)
	}
	out := runHost(t, 2, cmds)
	for i := range cmds {
		got := unhx(t, field(t, out[i], 0))
		if !bytes.Equal(got, want[i]) {
			t.Fatalf("command %d (%.40s...): C packet %x\nwant %x", i, cmds[i], got, want[i])
		}
		if ser := unhx(t, field(t, out[i], 1)); !bytes.Equal(ser, frame.AppendSerial(nil, want[i])) {
			t.Fatalf("command %d: C serial bytes differ from Go", i)
		}
		var p, q frame.Packet
		if err := frame.Parse(&p, got); err != nil {
			t.Fatalf("command %d: Go cannot parse the C packet: %v", i, err)
		}
		if err := frame.Parse(&q, want[i]); err != nil || !reflect.DeepEqual(p.Info, q.Info) ||
			!bytes.Equal(p.Text, q.Text) || p.Status != q.Status {
			t.Fatalf("command %d: parsed C packet %+v, want %+v", i, p, q)
		}
	}
}

// TestCOBSAndCRC: wsb_cobs_encode equals frame.AppendCOBS for every length
// 0..1100 in several patterns (all around the 254-byte block boundary), and
// wsb_crc32c equals frame.Checksum, for all three CRC implementations.
func TestCOBSAndCRC(t *testing.T) {
	r := rand.New(rand.NewPCG(4, 5))
	var cmds []string
	var want []string
	for n := 0; n <= 1100; n++ {
		b := randomPayload(r, n)
		cmds = append(cmds, "C "+hx(b), "K "+hx(b))
		want = append(want, hx(frame.AppendCOBS(nil, b)), fmt.Sprintf("%08x", frame.Checksum(b)))
	}
	for _, mode := range crcModes {
		out := runHost(t, mode, cmds)
		for i := range cmds {
			if out[i] != want[i] {
				t.Fatalf("crc mode %d, %.12s... (input %d bytes): got %.80s want %.80s",
					mode, cmds[i], len(cmds[i])/2-1, out[i], want[i])
			}
		}
	}
}

// TestEncoderRejects: what Go refuses to encode, C refuses too (-1, written
// "ERR" by the host program), and the largest legal packets are accepted.
func TestEncoderRejects(t *testing.T) {
	maxLog := make([]byte, frame.MaxBodySize)
	cases := []struct {
		name, cmd string
		ok        bool
	}{
		{"sample type 0", "D 1 0 16000 1 0 1 0000 1", false},
		{"zero channels", "D 1 0 16000 0 1 0 - 1", false},
		{"payload over 64 KiB", "D 1 0 16000 2 3 65535 - 1", false},
		{"name of 256 bytes", infoCmd(&frame.DeviceInfo{Channels: 1, Name: strings.Repeat("x", 256)}), false},
		{"log body at the maximum", "L " + hx(maxLog), true},
		{"reply with empty text", "R 1 -", true},
	}
	cmds := make([]string, len(cases))
	for i, c := range cases {
		cmds[i] = c.cmd
	}
	out := runHost(t, 2, cmds)
	for i, c := range cases {
		got := field(t, out[i], 0)
		if (got != "ERR") != c.ok {
			t.Errorf("%s: C encoder answered %.40s, want ok=%v", c.name, got, c.ok)
		}
	}
	if _, err := frame.AppendFrame(nil, &frame.Frame{Channels: 2, SampleType: frame.I32, Count: 65535,
		Data: make([]byte, 65535*8)}); err == nil {
		t.Error("Go encoded a payload over 64 KiB; the C rejection above is no longer in step")
	}
}

// TestEncoderRefusesFailingPackets: for every failing golden case that an
// encoder could be asked to build (frametest.Bad.Refuse), the C encoder
// refuses. A data frame's payload goes to the streaming API as it is; the
// one-shot API takes the payload's size from the header, so it is asked
// only when the header alone is wrong. (frame's TestEncodersRefuse checks
// the Go encoders on the same cases.)
func TestEncoderRefusesFailingPackets(t *testing.T) {
	var cases []frametest.Bad
	var cmds []string
	for _, c := range frametest.Failing {
		if c.Refuse != nil {
			cases, cmds = append(cases, c), append(cmds, packetCmd(t, &frametest.Case{Name: c.Name, Packet: *c.Refuse}))
		}
	}
	if len(cases) == 0 {
		t.Fatal("no failing case has a packet to refuse")
	}
	out := runHost(t, 2, cmds)
	for i, c := range cases {
		f := &c.Refuse.Frame
		if c.Refuse.Type == frame.TypeData {
			if got := field(t, out[i], 2); got != "ERR" {
				t.Errorf("%s: C streaming encoder built %.40s, want a refusal", c.Name, got)
			}
			if len(f.Data) != f.PayloadSize() {
				continue
			}
		}
		if got := field(t, out[i], 0); got != "ERR" {
			t.Errorf("%s: C encoder built %.40s, want a refusal", c.Name, got)
		}
	}
}

// TestCommandParser: the sketches' line reader and parser on the commands
// wsbridge serve sends, CRLF endings, garbage and an overlong line.
func TestCommandParser(t *testing.T) {
	cases := []struct{ in, want string }{
		{"rate 16000\n", "1:16000"},
		{"rate 16000\r\n", "1:16000"},
		{"  rate   44100  \n", "1:44100"},
		{"start\nstop\ninfo\n", "2:0 3:0 4:0"},
		{"\n\r\n", "0:0 0:0"},
		{"rate\nrate 0\nrate -5\nrate 12x\nrate 4294967296\n", "6:0 6:0 6:0 6:0 6:0"},
		{"rate 4294967295\n", "1:4294967295"},
		{"foo\nstarter\nstart now\nRATE 5\n", "5:0 5:0 5:0 5:0"},
		{"rate 8000", "-"}, // no newline yet: nothing complete
		{strings.Repeat("x", 62) + "\nstart\n", "5:0 2:0"},
		{strings.Repeat("x", 63) + "\nstart\n", "7:0 2:0"},
		{strings.Repeat("rate 1 ", 100) + "\ninfo\n", "7:0 4:0"},
	}
	cmds := make([]string, len(cases))
	for i, c := range cases {
		cmds[i] = "P " + hx([]byte(c.in))
	}
	out := runHost(t, 2, cmds)
	for i, c := range cases {
		if out[i] != c.want {
			t.Errorf("lines %q: parsed %q, want %q", c.in, out[i], c.want)
		}
	}
}
