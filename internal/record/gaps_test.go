package record

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/wsbridge/wsbridge/internal/testsupport"
	"github.com/wsbridge/wsbridge/internal/wsproto"
)

// gapScript: frames 0..4, a history gap 5..7 announced by serve, frames
// 8..9, frames 12..13 (10..11 missing without announcement), a restart
// into epoch e2 at seq 0, frames 0..2.
func gapScript(t *testing.T, n int, c *sconn) {
	if n > 0 {
		return // a reconnect: nothing more to say
	}
	c.hello(t, "e1", 0)
	c.frames(t, 0, 4)
	c.json(t, wsproto.Gap{Type: wsproto.TypeGap, From: 5, To: 7, Count: 3, Reason: wsproto.GapHistory, Epoch: "e1"})
	c.frames(t, 8, 9)
	c.frames(t, 12, 13)
	c.json(t, wsproto.Status{Type: wsproto.TypeStatus, State: wsproto.StateRestart, Seq: 0, Epoch: "e2", Reason: "device restarted"})
	c.frames(t, 0, 2)
}

// want is one expected file: its sidecar's main fields, its gaps
// ("FROM..TO reason@AT+FILLED"), and its samples as runs of the counter
// (k..k+n) and fills (-n).
type want struct {
	epoch          string
	first, last    uint32
	startBy, endBy string
	gaps           string
	runs           []int // k0, n0, k1, n1, ...; k < 0: a fill of n
}

func gapString(gs []GapRecord) string {
	var b []string
	for _, g := range gs {
		b = append(b, fmt.Sprintf("%d..%d %s %d@%d+%d", g.From, g.To, g.Reason, g.Frames, g.AtSample, g.Filled))
	}
	return strings.Join(b, ", ")
}

// TestGapsInSidecar: every gap (announced by serve, or seen in the
// sequence numbers) and the restart are in the sidecars, with --on-gap
// split, zero and keep, and the samples around them are exact.
func TestGapsInSidecar(t *testing.T) {
	e2 := want{"e2", 0, 2, "restart", "stop", "", []int{0, 30}}
	cases := []struct {
		onGap, format string
		files         []want
	}{
		{GapSplit, FormatWAV, []want{
			{"e1", 0, 4, "start", "gap", "5..7 history 3@50+0", []int{0, 50}},
			{"e1", 8, 9, "gap", "gap", "10..11 network 2@20+0", []int{80, 20}},
			{"e1", 12, 13, "gap", "restart", "", []int{120, 20}},
			e2}},
		{GapZero, FormatWAV, []want{
			{"e1", 0, 13, "start", "restart", "5..7 history 3@50+30, 10..11 network 2@100+20",
				[]int{0, 50, -1, 30, 80, 20, -1, 20, 120, 20}},
			e2}},
		{GapKeep, FormatWAV, []want{
			{"e1", 0, 13, "start", "restart", "5..7 history 3@50+0, 10..11 network 2@70+0",
				[]int{0, 50, 80, 20, 120, 20}},
			e2}},
		{GapZero, FormatCSV, []want{
			{"e1", 0, 13, "start", "restart", "5..7 history 3@50+30, 10..11 network 2@100+20",
				[]int{0, 50, -1, 30, 80, 20, -1, 20, 120, 20}},
			e2}},
	}
	for _, tc := range cases {
		t.Run(tc.onGap+"-"+tc.format, func(t *testing.T) {
			t.Parallel()
			url := scriptServer(t, gapScript)
			dir := t.TempDir()
			r := startRecord(t, Options{URLs: []string{url}, Dir: dir, OnGap: tc.onGap, Format: tc.format,
				Labels: []string{"speaker=ann", "word=yes"}})
			waitFor(t, "the last frame", func() bool {
				s := sidecars(t, dir)
				return len(s) > 0 && s[len(s)-1].Epoch == "e2" && s[len(s)-1].Frames == 3
			})
			sum := r.stop(t)
			got := sidecars(t, dir)
			if len(got) != len(tc.files) {
				t.Fatalf("%d files, want %d: %+v", len(got), len(tc.files), got)
			}
			for i, w := range tc.files {
				s := got[i]
				if s.Epoch != w.epoch || *s.FirstSeq != w.first || *s.LastSeq != w.last || s.StartedBy != w.startBy ||
					s.EndedBy != w.endBy || gapString(s.Gaps) != w.gaps || !s.Complete {
					t.Errorf("file %d: epoch %s seq %d..%d started_by %s ended_by %s gaps %q complete %v\n"+
						"want epoch %s seq %d..%d started_by %s ended_by %s gaps %q complete true",
						i, s.Epoch, *s.FirstSeq, *s.LastSeq, s.StartedBy, s.EndedBy, gapString(s.Gaps), s.Complete,
						w.epoch, w.first, w.last, w.startBy, w.endBy, w.gaps)
				}
				if s.Labels["speaker"] != "ann" || s.Labels["word"] != "yes" || s.OnGap != tc.onGap ||
					s.Device == nil || s.Device.Name != "t" || s.Channel != "mic" || s.Rate != testRate || s.Channels != 2 {
					t.Errorf("file %d: sidecar %+v", i, s)
				}
				checkSamples(t, filepath.Join(dir, s.File), tc.format, w.runs, s.Samples)
			}
			st := sum.Streams[0]
			if st.Gaps != 2 || st.LostFrames != 5 || st.Restarts != 1 || len(st.Files) != len(tc.files) {
				t.Errorf("summary %+v", st)
			}
		})
	}
}

// checkSamples checks a file's samples against runs (see want) and the
// sidecar's sample count.
func checkSamples(t *testing.T, path, format string, runs []int, samples uint64) {
	t.Helper()
	var rows []string // "k,-k" or "," for a fill
	for i := 0; i < len(runs); i += 2 {
		for j := range runs[i+1] {
			if runs[i] < 0 {
				rows = append(rows, ",")
			} else {
				k := runs[i] + j
				rows = append(rows, fmt.Sprintf("%d,%d", k, -k))
			}
		}
	}
	var got []string
	if format == FormatWAV {
		w := testsupport.ReadWAV(t, path)
		if w.Tag != 1 || w.Channels != 2 || w.Bits != 16 || w.Rate != testRate {
			t.Fatalf("%s: fmt %+v", path, w)
		}
		v := w.I16()
		for i := 0; i+1 < len(v); i += 2 {
			if v[i] == 0 && v[i+1] == 0 && (len(got) >= len(rows) || rows[len(got)] == ",") {
				got = append(got, ",")
			} else {
				got = append(got, fmt.Sprintf("%d,%d", v[i], v[i+1]))
			}
		}
	} else {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
		if lines[0] != "t_us,left,right" {
			t.Fatalf("%s: header %q", path, lines[0])
		}
		for i, l := range lines[1:] {
			tus, rest, _ := strings.Cut(l, ",")
			k := i // the test stream's device time is k ms, fills included
			if len(rows) > i && rows[i] != "," {
				fmt.Sscan(strings.Split(rows[i], ",")[0], &k)
			} else if i > 0 {
				var prev int
				fmt.Sscan(strings.Split(lines[i], ",")[0], &prev)
				k = prev/1000 + 1
			}
			if tus != fmt.Sprint(k*1000) {
				t.Fatalf("%s row %d: time %s, want %d", path, i, tus, k*1000)
			}
			got = append(got, rest)
		}
	}
	if uint64(len(got)) != samples || strings.Join(got, " ") != strings.Join(rows, " ") {
		t.Fatalf("%s: %d samples (sidecar %d)\n got %v\nwant %v", path, len(got), samples, got, rows)
	}
}

// TestGapsAfterTheLastFile: gaps learnt when no file is open and no frame
// follows before the recording stops (after a split, after a restart) are
// still in a sidecar: the last file's, at its end.
func TestGapsAfterTheLastFile(t *testing.T) {
	for _, tc := range []struct {
		name, onGap string
		script      script
		gaps        string // the one file's gaps
		endBy       string
	}{
		{"split then another gap", GapSplit, func(t *testing.T, n int, c *sconn) {
			if n == 0 {
				c.hello(t, "e1", 0)
				c.frames(t, 0, 4)
				c.json(t, wsproto.Gap{Type: wsproto.TypeGap, From: 5, To: 7, Count: 3, Reason: wsproto.GapHistory, Epoch: "e1"})
				c.json(t, wsproto.Gap{Type: wsproto.TypeGap, From: 8, To: 9, Count: 2, Reason: wsproto.GapDevice, Epoch: "e1"})
			}
		}, "5..7 history 3@50+0, 8..9 device 2@50+0", "gap"},
		{"zero then a restart", GapZero, func(t *testing.T, n int, c *sconn) {
			if n == 0 {
				c.hello(t, "e1", 0)
				c.frames(t, 0, 4)
				c.json(t, wsproto.Gap{Type: wsproto.TypeGap, From: 5, To: 7, Count: 3, Reason: wsproto.GapDevice, Epoch: "e1"})
				c.json(t, wsproto.Status{Type: wsproto.TypeStatus, State: wsproto.StateRestart, Seq: 0, Epoch: "e2"})
			}
		}, "5..7 device 3@50+0", "restart"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			log := &testsupport.SyncBuffer{}
			r := startRecordLog(t, Options{URLs: []string{scriptServer(t, tc.script)}, Dir: dir, OnGap: tc.onGap,
				Format: FormatCSV}, log)
			if tc.endBy == "restart" {
				log.WaitLogEntries(t, "the stream restarted", 1, 10*time.Second)
			} else {
				log.WaitLogEntries(t, "gap: frames 8..9", 1, 10*time.Second)
			}
			r.stop(t)
			got := sidecars(t, dir)
			if len(got) != 1 || gapString(got[0].Gaps) != tc.gaps || got[0].EndedBy != tc.endBy || !got[0].Complete {
				t.Fatalf("sidecars %+v, want one ended by %s with gaps %q", got, tc.endBy, tc.gaps)
			}
		})
	}
}

// TestResumeIntoATrimmedEpoch: the recorder comes back after serve
// restarted and trimmed the new count's start (docs/protocol.md: hello
// names the new epoch with the first seq it will send, then a restart
// status with the count's first seq, then a history gap up to what is
// held). The restart is counted once and the history gap is in the new
// file's sidecar.
func TestResumeIntoATrimmedEpoch(t *testing.T) {
	url := scriptServer(t, func(t *testing.T, n int, c *sconn) {
		switch n {
		case 0:
			c.hello(t, "e1", 0)
			c.frames(t, 0, 4)
			c.ws.Close(websocket.StatusGoingAway, "server shutting down")
		case 1:
			if q := c.req.URL.Query(); q.Get("since") != "5" || q.Get("epoch") != "e1" {
				t.Errorf("resumed with %s, want since=5&epoch=e1", c.req.URL.RawQuery)
			}
			c.hello(t, "e2", 100)
			c.json(t, wsproto.Status{Type: wsproto.TypeStatus, State: wsproto.StateRestart, Seq: 0, Epoch: "e2"})
			c.json(t, wsproto.Gap{Type: wsproto.TypeGap, From: 0, To: 99, Count: 100, Reason: wsproto.GapHistory, Epoch: "e2"})
			c.frames(t, 100, 104)
		}
	})
	dir := t.TempDir()
	r := startRecord(t, Options{URLs: []string{url}, Dir: dir, Format: FormatCSV})
	waitFor(t, "frame 104", func() bool {
		s := sidecars(t, dir)
		return len(s) > 0 && s[len(s)-1].LastSeq != nil && *s[len(s)-1].LastSeq == 104
	})
	sum := r.stop(t)
	got := sidecars(t, dir)
	if len(got) != 2 || got[1].Epoch != "e2" || gapString(got[1].Gaps) != "0..99 history 100@0+0" || got[1].StartedBy != "restart" {
		t.Fatalf("sidecars %+v, want e1 then e2 with the history gap 0..99", got)
	}
	if st := sum.Streams[0]; st.Restarts != 1 || st.Gaps != 1 || st.LostFrames != 100 {
		t.Errorf("summary %+v, want 1 restart and the gap of 100 frames", st)
	}
}

// stoppingScript: frames 0..4 of e1, then serve's stopping status naming
// seq 8 (frames 5..7 went with the process), then, on the next
// connection, a new serve: epoch e2 from 0.
func stoppingScript(t *testing.T, n int, c *sconn) {
	if n > 0 {
		c.hello(t, "e2", 0)
		c.json(t, wsproto.Status{Type: wsproto.TypeStatus, State: wsproto.StateRestart, Seq: 0, Epoch: "e2", Reason: "epoch e1 is over"})
		c.frames(t, 0, 2)
		return
	}
	c.hello(t, "e1", 0)
	c.frames(t, 0, 4)
	c.json(t, wsproto.Status{Type: wsproto.TypeStatus, State: wsproto.StateStopping, Seq: 8, Epoch: "e1", Reason: "serve is shutting down"})
	c.ws.Close(websocket.StatusGoingAway, "server shutting down")
}

// TestServeStoppingIsAGapInTheSidecar: frames serve had not sent when it
// shut down are a gap of their own reason in the sidecar of the file they
// belong to, not a silent end.
func TestServeStoppingIsAGapInTheSidecar(t *testing.T) {
	url := scriptServer(t, stoppingScript)
	dir := t.TempDir()
	r := startRecord(t, Options{URLs: []string{url}, Dir: dir, OnGap: GapKeep, Format: FormatCSV})
	waitFor(t, "the new serve's frames", func() bool {
		s := sidecars(t, dir)
		return len(s) > 1 && s[len(s)-1].Epoch == "e2" && s[len(s)-1].Frames == 3
	})
	r.stop(t)
	got := sidecars(t, dir)
	if g := gapString(got[0].Gaps); got[0].Epoch != "e1" || !strings.HasPrefix(g, "5..7 serve_stopped 3@") {
		t.Fatalf("first file: epoch %s gaps %q, want e1 with 5..7 serve_stopped", got[0].Epoch, g)
	}
}
