package sink

import (
	"bytes"
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/wsbridge/wsbridge/internal/frame"
	"github.com/wsbridge/wsbridge/internal/wsproto"
)

// TestGapFloodRateLimited: a broken server announces 10 000 gaps (issue
// 13.4: 20 MB of warnings in 9 s). Every gap is counted, the log stays
// small and says how many lines it suppressed, and the port gets gap
// lines that cover 0..9999 exactly, in order, merged while they wait.
func TestGapFloodRateLimited(t *testing.T) {
	const n = 10_000 // the issue saw 100 000; the limiter does not depend on the count
	_, r, rd, c := startLinked(t, nil)
	c.hello(t, 0, nil)
	ctx := context.Background()
	for i := uint32(0); i < n; i++ {
		b := []byte(`{"type":"gap","from":` + itoa(i) + `,"to":` + itoa(i) + `,"count":1,"reason":"device"}`)
		if err := c.c.Write(ctx, websocket.MessageText, b); err != nil {
			t.Fatal(err)
		}
	}
	c.frames(t, n, n)
	// A bound, not a timing: 0.3 s alone, but 10 000 JSON messages cost
	// over 10 s under -race on a loaded machine.
	got := readUntil(t, rd, time.Minute, func(b []byte) bool { return bytes.HasSuffix(b, []byte(wantCSV(n, n))) })
	lines := strings.Split(strings.TrimSuffix(string(got), wantCSV(n, n)), "\n")
	var ranges []SeqRange
	for _, l := range lines[:len(lines)-1] {
		g, ok := parseGapLine(l)
		if !ok || !strings.HasSuffix(l, " reason=device") {
			t.Fatalf("not a device gap line: %q", l)
		}
		ranges = append(ranges, g)
	}
	checkAnnounced(t, ^uint32(0), n, ranges)
	sum := r.stop(t)
	if sum.Gaps != n || sum.LostFrames != n {
		t.Errorf("gaps %d (lost %d), want %d", sum.Gaps, sum.LostFrames, n)
	}
	log := r.log.String()
	gapLines := r.log.LogEntries("will not be received")
	suppressed := 0
	for _, l := range r.log.LogEntries("") {
		if v, ok := l["suppressed"].(float64); ok {
			suppressed += int(v)
		}
	}
	if len(log) > 64<<10 || len(gapLines)+suppressed != n {
		t.Errorf("log of %d bytes with %d gap lines and %d suppressed: want < 64 KiB accounting for all %d gaps", len(log), len(gapLines), suppressed, n)
	}
	t.Logf("%d gaps: %d log lines, %d bytes of log; %d gap lines in the port", n, strings.Count(log, "\n"), len(log), len(ranges))
}

func itoa(v uint32) string { return strconv.FormatUint(uint64(v), 10) }

// TestRawInfoThatCannotBeWrittenIsCounted: under --format raw, device info
// that does not encode as a v1 info packet (issue 13.4: silently not
// written) is logged and counted; info that does is written when it
// changes, in order with the frames.
func TestRawInfoThatCannotBeWrittenIsCounted(t *testing.T) {
	_, r, rd, c := startLinked(t, func(o *Options) { o.Format = FormatRaw })
	c.hello(t, 0, &wsproto.Device{Name: "sim", Rate: testRate, Channels: 2, SampleType: "i16", FrameSamples: testSamples})
	c.frames(t, 0, 0)
	c.sendJSON(t, wsproto.Info{Type: wsproto.TypeInfo, Device: wsproto.Device{Name: "broken", Channels: 0, SampleType: "i16"}})
	c.sendJSON(t, wsproto.Info{Type: wsproto.TypeInfo, Device: wsproto.Device{Name: "odd", Channels: 1, SampleType: "u12"}})
	c.sendJSON(t, wsproto.Info{Type: wsproto.TypeInfo, Device: wsproto.Device{Name: "sim2", Rate: 8000, Channels: 2, SampleType: "i16", FrameSamples: 5}})
	c.frames(t, 1, 1)
	var want []byte
	for _, in := range []frame.DeviceInfo{{Name: "sim", Rate: testRate, Channels: 2, SampleType: frame.I16, FrameSamples: testSamples}} {
		p, _ := frame.AppendInfo(nil, &in)
		want = frame.AppendSerial(want, p)
	}
	want = frame.AppendSerial(want, counterFrame(0))
	p, _ := frame.AppendInfo(nil, &frame.DeviceInfo{Name: "sim2", Rate: 8000, Channels: 2, SampleType: frame.I16, FrameSamples: 5})
	want = frame.AppendSerial(frame.AppendSerial(want, p), counterFrame(1))
	if got := readUntil(t, rd, 5*time.Second, func(b []byte) bool { return len(b) >= len(want) }); !bytes.Equal(got, want) {
		t.Fatalf("raw port: %s", firstDiff(got, want))
	}
	if sum := r.stop(t); sum.InfoNotWritten != 2 {
		t.Errorf("info_not_written %d, want 2", sum.InfoNotWritten)
	}
	if l := r.log.LogEntries("device info not written into the port"); len(l) != 2 {
		t.Errorf("%d log lines for unwritable info, want 2:\n%s", len(l), r.log.String())
	}
}

// TestOverlongReplyIsCutWithAMarker: a 70 000-byte reply (issue 13.4: an
// empty packet 01 00 in the port) becomes a valid reply packet that ends
// with a marker, logged and counted; a text line is cut the same way.
func TestOverlongReplyIsCutWithAMarker(t *testing.T) {
	long := strings.Repeat("é", 35_000) // 70 000 bytes, 2 per rune: the cut must not split one
	for _, format := range []string{FormatRaw, FormatCSV} {
		t.Run(format, func(t *testing.T) {
			_, r, rd, c := startLinked(t, func(o *Options) { o.Format, o.RepliesToPort = format, true })
			c.hello(t, 0, nil)
			c.sendJSON(t, wsproto.Reply{Type: wsproto.TypeReply, OK: true, Text: long})
			c.frames(t, 0, 0)
			var text string
			if format == FormatRaw {
				got := readUntil(t, rd, 5*time.Second, func(b []byte) bool { return bytes.Count(b, []byte{0}) >= 2 })
				text = replyText(t, got[:bytes.IndexByte(got, 0)])
			} else {
				got := readUntil(t, rd, 5*time.Second, lineCount(1+testSamples))
				line := string(got[:bytes.IndexByte(got, '\n')])
				if !strings.HasPrefix(line, "# ok ") || len(line) > frame.MaxLineSize {
					t.Fatalf("reply line of %d bytes starting %q", len(line), line[:10])
				}
				text = strings.TrimPrefix(line, "# ok ")
			}
			if !strings.HasSuffix(text, " [truncated: 70000 bytes]") || !strings.HasPrefix(text, "éé") || strings.ContainsRune(text, '\uFFFD') {
				t.Errorf("reply text of %d bytes ends %q", len(text), text[max(0, len(text)-40):])
			}
			if sum := r.stop(t); sum.RepliesTruncated != 1 {
				t.Errorf("replies_truncated %d, want 1", sum.RepliesTruncated)
			}
		})
	}
}

// replyText decodes one COBS-framed reply packet.
func replyText(t *testing.T, enc []byte) string {
	t.Helper()
	raw, err := frame.DecodeCOBS(nil, enc)
	if err != nil {
		t.Fatal(err)
	}
	var p frame.Packet
	if err := frame.Parse(&p, raw); err != nil || p.Type != frame.TypeReply {
		t.Fatalf("not a reply packet (%v): % x", err, raw[:min(8, len(raw))])
	}
	return string(p.Text)
}

// TestZeroSampleFloodBounded: frames of 0 samples last 0 s and render to
// nothing in csv (issue 13.3: 1.6 GB after 75 s). Nothing reads the port;
// the queue stays within its entry and memory caps in every format.
func TestZeroSampleFloodBounded(t *testing.T) {
	for _, format := range []string{FormatCSV, FormatRaw} {
		t.Run(format, func(t *testing.T) {
			const n, entries = 20_000, 500
			var sk *Sink
			ts := newTServer(t, false)
			r := startSink(t, ts.url(), func(o *Options) {
				o.Format, o.MaxBufferEntries, o.MaxBufferBytes = format, entries, 1<<20
				o.onSink = func(s *Sink) { sk = s }
			})
			c := ts.accept(t)
			c.hello(t, 0, nil)
			done := make(chan struct{})
			go func() {
				defer close(done)
				for s := uint32(0); s < n; s++ {
					f := frame.Frame{Seq: s, Rate: 0, Channels: 1, SampleType: frame.I16}
					b, _ := frame.AppendFrame(nil, &f)
					if c.c.Write(context.Background(), websocket.MessageBinary, b) != nil {
						return
					}
				}
			}()
			maxEntries, maxBytes := 0, 0
			for sk.st.frames.Load() < n {
				_, b := sk.q.level()
				maxEntries, maxBytes = max(maxEntries, sk.q.entries()), max(maxBytes, b)
				time.Sleep(time.Millisecond)
			}
			<-done
			sum := r.stop(t)
			if maxEntries > entries || maxBytes > 1<<20 {
				t.Errorf("queue reached %d entries and %d bytes, caps %d and %d", maxEntries, maxBytes, entries, 1<<20)
			}
			if sum.Frames != n {
				t.Errorf("frames %d, want %d", sum.Frames, n)
			}
			t.Logf("%s: max %d entries, %d bytes queued; dropped %d", format, maxEntries, maxBytes, sum.DroppedFrames)
		})
	}
}
