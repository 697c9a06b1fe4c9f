package adcsim

import (
	"bufio"
	"strings"
	"testing"
	"time"

	"github.com/wsbridge/wsbridge/internal/frame"
	"github.com/wsbridge/wsbridge/internal/testsupport"
)

// waitReply waits for the n-th reply packet (1-based) and returns it.
func waitReply(t *testing.T, rec *recorder, n int) frame.Packet {
	t.Helper()
	testsupport.WaitFor(t, 10*time.Second, "a reply", func() bool { return len(replies(rec)) >= n })
	return replies(rec)[n-1]
}

func TestCommandsFramesWire(t *testing.T) {
	r := startRig(t, counterConfig(WireFrames, 16000))
	rec := newRecorder()
	pumped := pump(r.slave, rec)
	send := func(line string) { r.slave.Write([]byte(line + "\n")) }
	expect := func(n int, status uint8, text string) {
		t.Helper()
		p := waitReply(t, rec, n)
		if p.Status != status || string(p.Text) != text {
			t.Fatalf("reply %d: status %d %q, want %d %q", n, p.Status, p.Text, status, text)
		}
	}

	time.Sleep(100 * time.Millisecond)
	send("rate 8000")
	expect(1, frame.ReplyOK, "rate 8000")
	send("rate 0")
	expect(2, frame.ReplyError, `rate: must be 1..2000000 Hz, got "0"`)
	send("info")
	expect(3, frame.ReplyOK, "info")
	testsupport.WaitFor(t, 10*time.Second, "frames at 8000 Hz", func() bool { fs := rec.frames(); return fs[len(fs)-1].Rate == 8000 })

	send("stop")
	expect(4, frame.ReplyOK, "stop")
	nStop := len(rec.frames())
	time.Sleep(150 * time.Millisecond)
	if n := len(rec.frames()); n != nStop {
		t.Fatalf("%d frames arrived after stop", n-nStop)
	}
	send("start")
	expect(5, frame.ReplyOK, "start")
	testsupport.WaitFor(t, 10*time.Second, "frames after start", func() bool { return len(rec.frames()) > nStop+3 })
	send("\r\nfoo bar\r")
	expect(6, frame.ReplyError, `unknown command "foo bar"`)
	r.drain(t, pumped)

	checkAfterCommands(t, rec, nStop)
}

// checkAfterCommands: the counter and seq never break across rate, info,
// stop and start; t_dev_us follows the rate in force; an info packet with
// the new rate comes before the rate reply, and one before the info reply.
func checkAfterCommands(t *testing.T, rec *recorder, nStop int) {
	ps, s := rec.snapshot()
	if rec.seqEvents() != 0 || s.NoiseBytes != 0 || s.CRCErrors != 0 {
		t.Fatalf("decoder stats %+v, seq events %v", s, rec.got.Events)
	}
	var prev *frame.Frame
	var i uint64
	var infos []uint32
	for k := range ps {
		switch p := &ps[k]; p.Type {
		case frame.TypeInfo:
			infos = append(infos, p.Info.Rate)
		case frame.TypeData:
			f := &p.Frame
			if got, want := f.Int(0, 0), int64(int16(i)); got != want {
				t.Fatalf("seq %d starts with %d, want %d", f.Seq, got, want)
			}
			if prev != nil && f.Seq != prev.Seq+1 {
				t.Fatalf("seq %d after %d", f.Seq, prev.Seq)
			}
			resumed := prev != nil && int(f.Seq) == nStop
			if prev != nil && !resumed {
				if want := prev.TimeUS + uint64(prev.Count)*1_000_000/uint64(prev.Rate); f.TimeUS != want {
					t.Fatalf("seq %d: t_dev_us %d, want %d (rate %d -> %d)", f.Seq, f.TimeUS, want, prev.Rate, f.Rate)
				}
			}
			if resumed && f.TimeUS < prev.TimeUS+150_000 {
				t.Fatalf("t_dev_us %d after a 150 ms stop, previous frame at %d", f.TimeUS, prev.TimeUS)
			}
			i += uint64(f.Count)
			prev = f
		}
	}
	if want := []uint32{16000, 8000, 8000}; len(infos) != 3 || infos[0] != want[0] || infos[1] != want[1] || infos[2] != want[2] {
		t.Fatalf("info packets with rates %v, want %v", infos, want)
	}
}

func TestCommandsTextWire(t *testing.T) {
	cfg := counterConfig(WireText, 1000)
	r := startRig(t, cfg)
	r.slave.Write([]byte("stop\n"))
	sc := bufio.NewScanner(r.slave)
	r.slave.SetReadDeadline(time.Now().Add(10 * time.Second))
	var got []string
	for sc.Scan() {
		l := sc.Text()
		if strings.HasPrefix(l, "#") {
			got = append(got, l)
		}
		if l == "# ok stop" && len(got) == 2 {
			r.slave.Write([]byte("rate 500\ninfo\nnope\n"))
		}
		if strings.HasPrefix(l, "# err") {
			break
		}
	}
	want := []string{
		"# info name=wsbridge-sim firmware=" + firmware() + " rate=1000 channels=1 sample_type=i16 frame_samples=10 signal=counter",
		"# ok stop",
		"# info name=wsbridge-sim firmware=" + firmware() + " rate=500 channels=1 sample_type=i16 frame_samples=5 signal=counter",
		"# ok rate 500",
		"# info name=wsbridge-sim firmware=" + firmware() + " rate=500 channels=1 sample_type=i16 frame_samples=5 signal=counter",
		"# ok info",
		`# err unknown command "nope"`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
