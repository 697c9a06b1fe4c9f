package serve

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/wsbridge/wsbridge/internal/frame"
	"github.com/wsbridge/wsbridge/internal/testsupport"
	"github.com/wsbridge/wsbridge/internal/vport"
	"github.com/wsbridge/wsbridge/internal/wsproto"
)

// rawDevice is a device on a real pty that writes exactly the frames a
// test asks for: the simulator's counter (simRate, simChans, simFS),
// after an info packet.
type rawDevice struct {
	t    *testing.T
	port *vport.Port
}

func newRawDevice(t *testing.T) *rawDevice {
	t.Helper()
	p, err := vport.Create(filepath.Join(t.TempDir(), "ttyRAW"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	d := &rawDevice{t: t, port: p}
	info, _ := frame.AppendInfo(nil, &frame.DeviceInfo{Rate: simRate, Channels: simChans, SampleType: frame.I16,
		FrameSamples: simFS, Name: "raw", Firmware: "test"})
	d.write(frame.AppendSerial([]byte{0}, info))
	return d
}

// frames writes counter frames with the given seqs in one write.
func (d *rawDevice) frames(seqs ...uint32) {
	var b []byte
	for _, seq := range seqs {
		f := frame.Frame{Seq: seq, TimeUS: uint64(seq) * 10000, Rate: simRate, Channels: simChans, SampleType: frame.I16, Count: simFS}
		f.Data = make([]byte, f.PayloadSize())
		for i := 0; i < simFS; i++ {
			for ch := 0; ch < simChans; ch++ {
				f.PutInt(i, ch, counter(uint64(seq)*simFS+uint64(i), ch))
			}
		}
		pkt, err := frame.AppendFrame(nil, &f)
		if err != nil {
			d.t.Fatal(err)
		}
		b = frame.AppendSerial(b, pkt)
	}
	d.write(b)
}

func (d *rawDevice) write(b []byte) {
	_ = d.port.SetWriteDeadline(time.Now().Add(5 * time.Second))
	if _, err := d.port.Write(b); err != nil {
		d.t.Fatalf("device write: %v", err)
	}
}

func span(from, to uint32) []uint32 {
	var s []uint32
	for seq := from; seq < to; seq++ {
		s = append(s, seq)
	}
	return s
}

// Frames that come from the serial line behind the current seq (issue
// 13.4: three frames 500 behind) are no longer dropped silently by the
// decoder: the channel counts them as duplicates, late frames as late,
// and clients get one exact stream with one exact gap.
func TestEndToEndFramesBehindCounted(t *testing.T) {
	dev := newRawDevice(t)
	dev.frames(0)
	ws, _ := startServe(t, ptyOptions(dev.port.Link()))
	c := testsupport.Dial(t, ws+"?since=0", nil)
	h := expectHello(t, c, "binary")
	dev.frames(span(1, 1000)...)
	dev.frames(500, 501, 502)       // 500 behind: published already
	dev.frames(span(1000, 1010)...) // in order again
	dev.frames(span(1015, 1020)...) // gap 1010..1014
	dev.frames(1012, 1013)          // late: after their gap was reported
	dev.frames(span(1020, 1030)...)
	for want := uint32(0); want < 1030; want++ {
		ev := nextFrameOrGap(t, c)
		if ev.typ == wsproto.TypeGap {
			if want != 1010 || ev.gap != (wsproto.Gap{Type: "gap", From: 1010, To: 1014, Count: 5, Reason: wsproto.GapDevice, Epoch: h.Epoch}) {
				t.Fatalf("at %d: %s", want, ev.raw)
			}
			want = 1014
			continue
		}
		if ev.seq != want {
			t.Fatalf("frame %d, want %d", ev.seq, want)
		}
		checkCounterFrame(t, ev)
	}
	m := metrics(t, ws)
	if m["wsbridge_frames_duplicate_total"] != 3 || m["wsbridge_frames_late_total"] != 2 ||
		m["wsbridge_device_gaps_total"] != 1 || m["wsbridge_device_gap_frames_total"] != 5 || m["wsbridge_serial_frames_total"] != 1030 {
		t.Fatalf("metrics: duplicate %v late %v gaps %v (%v frames), serial frames %v",
			m["wsbridge_frames_duplicate_total"], m["wsbridge_frames_late_total"], m["wsbridge_device_gaps_total"],
			m["wsbridge_device_gap_frames_total"], m["wsbridge_serial_frames_total"])
	}
}

// nextFrameOrGap reads until a data frame or a gap, failing on statuses.
func nextFrameOrGap(t *testing.T, c *websocket.Conn) event {
	t.Helper()
	for {
		switch ev := next(t, c); ev.typ {
		case "frame", wsproto.TypeGap:
			return ev
		case wsproto.TypeInfo, wsproto.TypeLog:
		default:
			t.Fatalf("unexpected message %s", ev.raw)
		}
	}
}
