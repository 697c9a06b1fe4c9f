package sink

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wsbridge/wsbridge/internal/frame"
	"github.com/wsbridge/wsbridge/internal/wsproto"
)

// wantCSV is the csv the test stream's frames from..to render to.
func wantCSV(from, to uint32) string {
	var b strings.Builder
	for k := int(from) * testSamples; k < int(to+1)*testSamples; k++ {
		fmt.Fprintf(&b, "%d,%d\n", int16(k), int16(k+1))
	}
	return b.String()
}

func TestCSVEverySampleInOrderExactlyOnce(t *testing.T) {
	_, r, rd, c := startLinked(t, nil)
	if got := c.req.URL.Query().Get("format"); got != "binary" {
		t.Errorf("format query = %q, want binary", got)
	}
	if c.req.URL.Query().Has("since") {
		t.Errorf("first connection sent since=%s; want none", c.req.URL.Query().Get("since"))
	}
	c.hello(t, 0, nil)
	c.frames(t, 0, 199)
	got := readUntil(t, rd, 5*time.Second, lineCount(200*testSamples))
	if want := wantCSV(0, 199); string(got) != want {
		t.Fatalf("csv differs: got %d bytes, want %d; first difference near %q", len(got), len(want), firstDiff(got, []byte(want)))
	}
	sum := r.stop(t)
	select {
	case code := <-c.closed:
		if code != 1000 {
			t.Errorf("sink closed with status %d, want 1000", code)
		}
	case <-time.After(2 * time.Second):
		t.Error("server saw no close")
	}
	if sum.Frames != 200 || sum.Samples != 2000 || sum.Gaps != 0 || sum.DroppedFrames != 0 || sum.Duplicates != 0 {
		t.Errorf("summary = %+v", sum)
	}
	if _, err := os.Lstat(r.info.Link); !os.IsNotExist(err) {
		t.Errorf("symlink %s still there after exit (err %v)", r.info.Link, err)
	}
}

func firstDiff(a, b []byte) string {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return fmt.Sprintf("byte %d: got %q want %q", i, tail(a[:min(len(a), i+20)], 40), tail(b[:min(len(b), i+20)], 40))
		}
	}
	return fmt.Sprintf("length %d vs %d", len(a), len(b))
}

func TestFormats(t *testing.T) {
	dev := &wsproto.Device{Name: "sim", Rate: testRate, Channels: 2, SampleType: "i16", FrameSamples: testSamples,
		ChannelInfo: []frame.Channel{{Name: "left mic", Unit: "raw"}, {Name: "right", Unit: "raw"}}}
	cases := []struct {
		name string
		edit func(*Options)
		want func() string
	}{
		{"plain crlf", func(o *Options) { o.Format, o.LineEnding = FormatPlain, "crlf" }, func() string {
			return strings.ReplaceAll(strings.ReplaceAll(wantCSV(0, 4), ",", " "), "\n", "\r\n")
		}},
		{"plotter with names", func(o *Options) { o.Format = FormatPlotter }, func() string {
			var b strings.Builder
			for k := 0; k < 5*testSamples; k++ {
				fmt.Fprintf(&b, "left_mic:%d,right:%d\n", k, k+1)
			}
			return b.String()
		}},
		{"csv header timestamps", func(o *Options) { o.Header, o.Timestamps = true, true }, func() string {
			var b strings.Builder
			b.WriteString("t_us,left_mic,right\n")
			for k := 0; k < 5*testSamples; k++ {
				fmt.Fprintf(&b, "%d,%d,%d\n", k*1000, k, k+1)
			}
			return b.String()
		}},
		{"csv decimate 3", func(o *Options) { o.Decimate = 3 }, func() string {
			var b strings.Builder
			for k := 0; k < 5*testSamples; k += 3 {
				fmt.Fprintf(&b, "%d,%d\n", k, k+1)
			}
			return b.String()
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, _, rd, c := startLinked(t, tc.edit)
			c.hello(t, 0, dev)
			c.frames(t, 0, 4)
			want := tc.want()
			got := readUntil(t, rd, 5*time.Second, func(b []byte) bool { return len(b) >= len(want) })
			if string(got) != want {
				t.Fatalf("output differs: %s", firstDiff(got, []byte(want)))
			}
		})
	}
}

func TestRawIsTheDevicePacketsByteForByte(t *testing.T) {
	_, _, rd, c := startLinked(t, func(o *Options) { o.Format = FormatRaw })
	dev := &wsproto.Device{Name: "sim", Firmware: "1.0", Rate: testRate, Channels: 2, SampleType: "i16", FrameSamples: testSamples}
	c.hello(t, 0, dev)
	c.frames(t, 0, 49)
	info, _ := frame.AppendInfo(nil, &frame.DeviceInfo{Name: "sim", Firmware: "1.0", Rate: testRate, Channels: 2,
		SampleType: frame.I16, FrameSamples: testSamples})
	want := frame.AppendSerial(nil, info)
	for s := uint32(0); s < 50; s++ {
		want = frame.AppendSerial(want, counterFrame(s))
	}
	got := readUntil(t, rd, 5*time.Second, func(b []byte) bool { return len(b) >= len(want) })
	if !bytes.Equal(got, want) {
		t.Fatalf("raw output differs: %s", firstDiff(got, want))
	}
}

func TestResumeAfterDropLosesNothing(t *testing.T) {
	ts, r, rd, c := startLinked(t, nil)
	c.hello(t, 0, nil)
	c.frames(t, 0, 49)
	readUntil(t, rd, 5*time.Second, lineCount(50*testSamples))
	c.c.CloseNow() // an abrupt drop, no close handshake
	c2 := ts.accept(t)
	if got := c2.req.URL.Query().Get("since"); got != "50" {
		t.Fatalf("resume since = %q, want 50", got)
	}
	c2.hello(t, 50, nil)
	c2.frames(t, 50, 99)
	got := readUntil(t, rd, 5*time.Second, lineCount(50*testSamples))
	if want := wantCSV(50, 99); string(got) != want {
		t.Fatalf("after resume: %s", firstDiff(got, []byte(want)))
	}
	sum := r.stop(t)
	if sum.Reconnects != 1 || sum.Gaps != 0 || sum.Frames != 100 || sum.Duplicates != 0 {
		t.Errorf("summary = %+v", sum)
	}
}

func TestGapsCountedOnceWithExactRanges(t *testing.T) {
	_, r, rd, c := startLinked(t, nil)
	c.hello(t, 0, nil)
	c.frames(t, 0, 9)
	// announced, then the frames resume after it
	c.sendJSON(t, wsproto.Gap{Type: wsproto.TypeGap, From: 10, To: 19, Count: 10, Reason: wsproto.GapHistory})
	c.frames(t, 20, 29)
	// seen in the sequence numbers first, announced afterwards: counted once
	c.frames(t, 35, 39)
	c.sendJSON(t, wsproto.Gap{Type: wsproto.TypeGap, From: 30, To: 34, Count: 5, Reason: wsproto.GapDevice})
	// announced range that starts later than expected: the hole before it too
	c.sendJSON(t, wsproto.Gap{Type: wsproto.TypeGap, From: 42, To: 44, Count: 3, Reason: wsproto.GapSlowClient})
	c.frames(t, 45, 49)
	readUntil(t, rd, 5*time.Second, lineCount(30*testSamples))
	sum := r.stop(t)
	want := []GapRange{{10, 19, 10, "history", ""}, {30, 34, 5, "network", ""}, {40, 41, 2, "network", ""}, {42, 44, 3, "slow_client", ""}}
	if fmt.Sprint(sum.GapRanges) != fmt.Sprint(want) || sum.Gaps != 4 || sum.LostFrames != 20 {
		t.Errorf("gaps = %v (%d, lost %d), want %v (4, lost 20)", sum.GapRanges, sum.Gaps, sum.LostFrames, want)
	}
	if len(r.log.LogEntries("gap: frames 10..19 (10) will not be received")) != 1 {
		t.Errorf("no log line for gap 10..19:\n%s", r.log.String())
	}
}

func TestDeviceRestartIsNotDuplicates(t *testing.T) {
	_, r, rd, c := startLinked(t, nil)
	c.hello(t, 0, nil)
	c.frames(t, 0, 99)
	c.sendJSON(t, wsproto.Status{Type: wsproto.TypeStatus, State: wsproto.StateRestart, Seq: 3})
	c.frames(t, 3, 12)
	got := readUntil(t, rd, 5*time.Second, lineCount(110*testSamples))
	if want := wantCSV(0, 99) + "# restart seq=3\n" + wantCSV(3, 12); string(got) != want {
		t.Fatalf("output: %s", firstDiff(got, []byte(want)))
	}
	sum := r.stop(t)
	if sum.Duplicates != 0 || sum.Restarts != 1 || sum.Gaps != 0 || sum.Frames != 110 {
		t.Errorf("summary = %+v", sum)
	}
}

func TestCommandsUpAndRepliesToPort(t *testing.T) {
	_, r, rd, c := startLinked(t, func(o *Options) { o.RepliesToPort = true })
	c.hello(t, 0, nil)
	c.frames(t, 0, 0)
	readUntil(t, rd, 5*time.Second, lineCount(testSamples))
	w, err := openWrite(r.info.Link)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	w.WriteString("rate 8000\r\n")
	var msg []byte
	select {
	case msg = <-c.msgs:
	case <-time.After(5 * time.Second):
		t.Fatal("no command reached the server")
	}
	cmd, err := wsproto.ParseClientMessage(msg)
	if err != nil || cmd.Line != "rate 8000" {
		t.Fatalf("server got %s (%v), want command \"rate 8000\"", msg, err)
	}
	c.sendJSON(t, wsproto.Reply{Type: wsproto.TypeReply, OK: true, Text: "rate 8000"})
	c.sendJSON(t, wsproto.Error{Type: wsproto.TypeError, Code: wsproto.ErrCommandsDisabled, Message: "serve runs without --allow-commands"})
	c.frames(t, 1, 1)
	want := "# ok rate 8000\n# err commands_disabled: serve runs without --allow-commands\n" + wantCSV(1, 1)
	got := readUntil(t, rd, 5*time.Second, func(b []byte) bool { return len(b) >= len(want) })
	if string(got) != want {
		t.Fatalf("port got %q, want %q", got, want)
	}
	if sum := r.stop(t); sum.Commands != 1 || sum.Replies != 1 || sum.Errors != 1 {
		t.Errorf("summary = %+v", sum)
	}
}

func TestRepliesOnlyLoggedByDefault(t *testing.T) {
	_, r, rd, c := startLinked(t, nil)
	c.hello(t, 0, nil)
	c.sendJSON(t, wsproto.Reply{Type: wsproto.TypeReply, OK: false, Text: "unknown command"})
	c.frames(t, 0, 0)
	got := readUntil(t, rd, 5*time.Second, lineCount(testSamples))
	if string(got) != wantCSV(0, 0) {
		t.Fatalf("port got %q", got)
	}
	if len(r.log.LogEntries("device reply: err unknown command")) != 1 {
		t.Errorf("reply not logged:\n%s", r.log.String())
	}
}

// seqsOf returns the frame seqs present in csv output of the test
// stream, checking each frame is complete and in order, and that every
// hole between two frames is announced, right there, by gap lines that
// cover it exactly (--gap-lines, on for csv).
func seqsOf(t *testing.T, csv []byte) []uint32 {
	t.Helper()
	var seqs []uint32
	var announced []SeqRange // gap lines since the last frame
	lines := strings.Split(strings.TrimSuffix(string(csv), "\n"), "\n")
	for i := 0; i < len(lines); {
		if strings.HasPrefix(lines[i], "#") {
			if g, ok := parseGapLine(lines[i]); ok {
				announced = append(announced, g)
			}
			i++
			continue
		}
		k, err := strconv.Atoi(strings.SplitN(lines[i], ",", 2)[0])
		if err != nil || k%testSamples != 0 || i+testSamples > len(lines) {
			t.Fatalf("line %d %q is not the start of a whole frame", i, lines[i])
		}
		s := uint32(k / testSamples)
		if got := strings.Join(lines[i:i+testSamples], "\n") + "\n"; got != wantCSV(s, s) {
			t.Fatalf("frame %d rendered wrong: %q", s, got)
		}
		if n := len(seqs); n > 0 && s <= seqs[n-1] {
			t.Fatalf("frame %d after %d: out of order or duplicate", s, seqs[n-1])
		}
		if n := len(seqs); n > 0 {
			checkAnnounced(t, seqs[n-1], s, announced)
		}
		announced = announced[:0]
		seqs = append(seqs, s)
		i += testSamples
	}
	return seqs
}

// checkAnnounced requires the gap lines between frames prev and next to
// cover prev+1..next-1 exactly, in order.
func checkAnnounced(t *testing.T, prev, next uint32, lines []SeqRange) {
	t.Helper()
	want := prev + 1
	for _, g := range lines {
		if g.From != want {
			t.Fatalf("between frames %d and %d: gap line %d..%d, want one from %d", prev, next, g.From, g.To, want)
		}
		want = g.To + 1
	}
	if want != next {
		t.Fatalf("frames %d..%d are missing between frames %d and %d without a gap line (lines: %v)", want, next-1, prev, next, lines)
	}
}

// parseGapLine reads "# gap FROM..TO frames=N reason=R ...".
func parseGapLine(l string) (SeqRange, bool) {
	var g SeqRange
	var frames int
	var reason string
	if _, err := fmt.Sscanf(l, "# gap %d..%d frames=%d reason=%s", &g.From, &g.To, &frames, &reason); err != nil {
		return g, false
	}
	return g, frames == int(g.To-g.From)+1
}

// missing lists the ranges of 0..n-1 not in seqs.
func missing(seqs []uint32, n uint32) []SeqRange {
	var out []SeqRange
	next := uint32(0)
	for _, s := range append(seqs, n) {
		if s > next {
			out = append(out, SeqRange{From: next, To: s - 1})
		}
		next = s + 1
	}
	return out
}

func TestRawRepliesAreReplyPackets(t *testing.T) {
	_, _, rd, c := startLinked(t, func(o *Options) { o.Format, o.RepliesToPort = FormatRaw, true })
	c.hello(t, 0, nil)
	c.frames(t, 0, 0)
	c.sendJSON(t, wsproto.Reply{Type: wsproto.TypeReply, OK: false, Text: "rate: must be 1..2000000 Hz"})
	reply, _ := frame.AppendReply(nil, frame.ReplyError, []byte("rate: must be 1..2000000 Hz"))
	want := frame.AppendSerial(frame.AppendSerial(nil, counterFrame(0)), reply)
	got := readUntil(t, rd, 5*time.Second, func(b []byte) bool { return len(b) >= len(want) })
	if !bytes.Equal(got, want) {
		t.Fatalf("raw port got %x, want %x", got, want)
	}
}
