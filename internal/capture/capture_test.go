package capture

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/wsbridge/wsbridge/internal/frame"
	"github.com/wsbridge/wsbridge/internal/frame/frametest"
)

func TestFramesDecodedExactly(t *testing.T) {
	p := newPort(t)
	c, rec := start(t, Options{Port: p.Link(), Input: InputFrames})
	const n = 500
	write(t, p, counterFrames(0, n, 64, 2))
	rec.waitFor(t, "all frames", func() bool { return len(rec.frames()) >= n })
	for i, f := range rec.frames() {
		if f.Seq != uint32(i) {
			t.Fatalf("frame %d has seq %d", i, f.Seq)
		}
		checkCounter(t, f)
	}
	s := statsWhen(t, c, framesAtLeast(n))
	if s.Frames != n || s.NoiseBytes != 0 || s.Input != InputFrames || !s.DeviceUp {
		t.Fatalf("stats %+v", s)
	}
}

func TestGoldenPacketsPassThrough(t *testing.T) {
	p := newPort(t)
	_, rec := start(t, Options{Port: p.Link(), Input: InputFrames})
	var line []byte
	var want []string // every golden packet: capture hands frames on as read, even those behind
	for _, g := range frametest.Golden {
		line = append(line, g.SerialBytes()...)
		want = append(want, g.Hex)
	}
	write(t, p, line)
	rec.waitFor(t, "golden packets", func() bool {
		rec.mu.Lock()
		defer rec.mu.Unlock()
		return len(rec.packets) >= len(want)
	})
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if len(rec.packets) != len(want) {
		t.Fatalf("got %d packets, want %d", len(rec.packets), len(want))
	}
	for i, w := range want {
		if got := fmt.Sprintf("%x", rec.packets[i].Raw); got != w {
			t.Errorf("packet %d: got %s, want %s", i, got, w)
		}
	}
}

// textLines is n lines of two channels: "i,-i".
func textLines(from, n int) string {
	var b strings.Builder
	for i := from; i < from+n; i++ {
		fmt.Fprintf(&b, "%d,%d\r\n", i, -i)
	}
	return b.String()
}

// textSamples returns the samples of all data frames, in order.
func textSamples(t testing.TB, frames []frame.Frame) [][2]int64 {
	t.Helper()
	var out [][2]int64
	for i, f := range frames {
		if f.Seq != uint32(i) || f.Channels != 2 {
			t.Fatalf("frame %d: seq %d channels %d", i, f.Seq, f.Channels)
		}
		for j := 0; j < int(f.Count); j++ {
			out = append(out, [2]int64{f.Int(j, 0), f.Int(j, 1)})
		}
	}
	return out
}

func checkText(t testing.TB, rec *recorder, n int) {
	t.Helper()
	rec.waitFor(t, "all text samples", func() bool {
		c := 0
		for _, f := range rec.frames() {
			c += int(f.Count)
		}
		return c >= n
	})
	s := textSamples(t, rec.frames())
	if len(s) != n {
		t.Fatalf("got %d samples, want %d", len(s), n)
	}
	for i, v := range s {
		if v != [2]int64{int64(i), int64(-i)} {
			t.Fatalf("sample %d = %v, want [%d %d]", i, v, i, -i)
		}
	}
}

func TestTextDecodedExactly(t *testing.T) {
	p := newPort(t)
	c, rec := start(t, Options{Port: p.Link(), Input: InputText, FrameSamples: 50})
	const n = 1000
	in := textLines(0, n)
	write(t, p, []byte(in))
	checkText(t, rec, n)
	if s := statsWhen(t, c, bytesAtLeast(len(in))); s.NoiseBytes != 0 || s.Input != InputText {
		t.Fatalf("stats %+v", s)
	}
}

// detected is the input auto detection chose, as Stats says once it has
// caught up with the packets (it trails them by a read): "" if none
// within a second.
func detected(rec *recorder) string {
	for deadline := time.Now().Add(time.Second); ; time.Sleep(5 * time.Millisecond) {
		if in := rec.c.Stats().Input; in != "" || time.Now().After(deadline) {
			return in
		}
	}
}

func TestAutoDetectsFramesLosingNothing(t *testing.T) {
	p := newPort(t)
	_, rec := start(t, Options{Port: p.Link()})
	const n = 200
	write(t, p, counterFrames(0, n, 64, 1))
	rec.waitFor(t, "all frames", func() bool { return len(rec.frames()) >= n })
	if got := detected(rec); got != InputFrames {
		t.Fatalf("detected %q, want frames", got)
	}
	for i, f := range rec.frames() {
		if f.Seq != uint32(i) {
			t.Fatalf("frame %d has seq %d: the first bytes were lost", i, f.Seq)
		}
		checkCounter(t, f)
	}
}

func TestAutoDetectsTextLosingNothing(t *testing.T) {
	p := newPort(t)
	_, rec := start(t, Options{Port: p.Link()})
	const n = 300
	write(t, p, []byte(textLines(0, n)))
	checkText(t, rec, n)
	if got := detected(rec); got != InputText {
		t.Fatalf("detected %q, want text", got)
	}
}

// A slow text device (one line, then quiet) is still detected after the
// soft time limit, and its first line is not lost.
func TestAutoDetectsSlowText(t *testing.T) {
	p := newPort(t)
	_, rec := start(t, Options{Port: p.Link()})
	write(t, p, []byte(textLines(0, 1)))
	rec.waitFor(t, "detection", func() bool { return detected(rec) != "" })
	if got := detected(rec); got != InputText {
		t.Fatalf("detected %q, want text", got)
	}
	write(t, p, []byte(textLines(1, 9)))
	checkText(t, rec, 10)
}

func TestGarbageAndCorruptPacketsCountedNeverPassed(t *testing.T) {
	p := newPort(t)
	c, rec := start(t, Options{Port: p.Link(), Input: InputFrames})
	boot := []byte("ets Jun  8 2016 00:22:57\r\n\r\nrst:0x1 (POWERON_RESET),boot:0x13\r\n")
	bad := corrupt(1)
	var line []byte
	line = append(line, boot...)
	line = append(line, 0)
	line = append(line, counterFrame(0, 64, 1)...)
	line = append(line, bad...)
	line = append(line, []byte{0x13, 0x37, 0x42, 0}...)
	line = append(line, counterFrame(2, 64, 1)...)
	write(t, p, line)
	rec.waitFor(t, "two frames", func() bool { return len(rec.frames()) >= 2 })
	fs := rec.frames()
	if len(fs) != 2 || fs[0].Seq != 0 || fs[1].Seq != 2 {
		t.Fatalf("frames passed: %d", len(fs))
	}
	checkCounter(t, fs[0])
	checkCounter(t, fs[1])
	s := statsWhen(t, c, bytesAtLeast(len(line)))
	wantNoise := uint64(len(boot) + len(bad) - 1 + 3)
	if s.CRCErrors != 1 || s.NoiseBytes != wantNoise || s.Frames != 2 {
		t.Fatalf("stats %+v, want 1 CRC error, %d noise bytes, 2 frames", s, wantNoise)
	}
}

// corrupt is frame seq with one payload byte changed: its CRC fails.
func corrupt(seq uint32) []byte {
	pkt, err := frame.DecodeCOBS(nil, counterFrame(seq, 64, 1)[:len(counterFrame(seq, 64, 1))-1])
	if err != nil {
		panic(err)
	}
	pkt[frame.PrefixSize+frame.DataHeaderSize+3] ^= 0x55
	return frame.AppendSerial(nil, pkt)
}

// What a board prints after reset: ROM noise at the wrong baud, then its
// boot text, then the data (frames firmware starts with a lone 0x00, as
// firmware-ref does, so the boot text does not swallow the first packet).
// Auto detection must see through the noise and the text.
func TestAutoDetectsAfterBootNoise(t *testing.T) {
	noise := make([]byte, 300)
	r := rand.New(rand.NewPCG(1, 2))
	for i := range noise {
		noise[i] = byte(r.UintN(256))
	}
	boot := "ets Jun  8 2016 00:22:57\r\n\r\nrst:0x1 (POWERON_RESET),boot:0x13 (SPI_FAST_FLASH_BOOT)\r\nentry 0x400805e4\r\n"
	for _, tc := range []struct {
		want string
		data []byte
	}{
		{InputFrames, append([]byte{0}, counterFrames(0, 50, 64, 1)...)},
		{InputText, []byte(textLines(0, 50))},
	} {
		t.Run(tc.want, func(t *testing.T) {
			p := newPort(t)
			_, rec := start(t, Options{Port: p.Link()})
			write(t, p, append(append(append([]byte(nil), noise...), boot...), tc.data...))
			rec.waitFor(t, "detection", func() bool { return detected(rec) != "" })
			if got := detected(rec); got != tc.want {
				t.Fatalf("detected %q, want %q", got, tc.want)
			}
			if tc.want == InputText {
				checkText(t, rec, 50)
				return
			}
			rec.waitFor(t, "50 frames", func() bool { return len(rec.frames()) >= 50 })
			for i, f := range rec.frames() {
				if f.Seq != uint32(i) {
					t.Fatalf("frame %d has seq %d", i, f.Seq)
				}
			}
		})
	}
}

// Without --port, the one ESP32 bridge present is used.
func TestNoPortPicksTheOneBoard(t *testing.T) {
	p := newPort(t)
	board := PortInfo{Path: p.Name(), USB: true, VID: "1a86", PID: "7523", Chip: "CH340", ESP32: true}
	uno := PortInfo{Path: "/dev/ttyACM7", USB: true, VID: "2341", PID: "0043"}
	c, rec := startWith(t, Options{Input: InputFrames}, func() ([]PortInfo, error) {
		return []PortInfo{uno, board}, nil
	})
	write(t, p, counterFrames(0, 3, 16, 1))
	rec.waitFor(t, "frames", func() bool { return len(rec.frames()) >= 3 })
	if s := statsWhen(t, c, framesAtLeast(3)); s.Port != p.Name() {
		t.Fatalf("port %q, want %q", s.Port, p.Name())
	}
}
