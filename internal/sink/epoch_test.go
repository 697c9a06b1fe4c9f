package sink

import (
	"strings"
	"testing"
	"time"

	"github.com/wsbridge/wsbridge/internal/wsproto"
)

// helloEpoch sends a hello naming epoch, starting at startSeq.
func (c *tconn) helloEpoch(t *testing.T, epoch string, startSeq uint32) {
	t.Helper()
	c.sendJSON(t, wsproto.Hello{Type: wsproto.TypeHello, Protocol: 1, Server: "test", Format: "binary", Epoch: epoch,
		DeviceState: wsproto.StateUp, Rate: testRate, Channels: 2, SampleType: "i16", Seq: startSeq, StartSeq: startSeq})
}

// TestNewEpochOnResumeIsOneRestart: serve restarted (issue 13.1). The sink
// resumes with since and epoch; the new serve answers with its own epoch,
// a restart status naming the epoch's first seq, and a history gap for
// what it no longer holds. The sink counts one restart (not two, not
// duplicates), logs old and new epoch and seq, and the reader sees the
// restart and gap lines where the count started over.
func TestNewEpochOnResumeIsOneRestart(t *testing.T) {
	ts, r, rd, c := startLinked(t, nil)
	c.helloEpoch(t, "aaaa0001", 0)
	c.frames(t, 0, 49)
	readUntil(t, rd, 5*time.Second, lineCount(50*testSamples))
	c.c.CloseNow()
	c2 := ts.accept(t)
	if q := c2.req.URL.Query(); q.Get("since") != "50" || q.Get("epoch") != "aaaa0001" {
		t.Fatalf("resume query %q, want since=50&epoch=aaaa0001", c2.req.URL.RawQuery)
	}
	c2.helloEpoch(t, "bbbb0002", 10)
	c2.sendJSON(t, wsproto.Status{Type: wsproto.TypeStatus, State: wsproto.StateRestart, Seq: 0, Epoch: "bbbb0002", Reason: "epoch aaaa0001 is over"})
	c2.sendJSON(t, wsproto.Gap{Type: wsproto.TypeGap, From: 0, To: 9, Count: 10, Reason: wsproto.GapHistory, Epoch: "bbbb0002"})
	c2.frames(t, 10, 19)
	want := "# restart epoch=bbbb0002 seq=0\n# gap 0..9 frames=10 reason=history epoch=bbbb0002\n" + wantCSV(10, 19)
	got := readUntil(t, rd, 5*time.Second, func(b []byte) bool { return len(b) >= len(want) })
	if string(got) != want {
		t.Fatalf("after the new epoch the port got:\n%s\nwant:\n%s", got, want)
	}
	c3 := reconnect(t, ts, c2)
	if q := c3.req.URL.Query(); q.Get("since") != "20" || q.Get("epoch") != "bbbb0002" {
		t.Errorf("next resume %q, want since=20&epoch=bbbb0002", c3.req.URL.RawQuery)
	}
	sum := r.stop(t)
	if sum.Restarts != 1 || sum.Duplicates != 0 || sum.Gaps != 1 || sum.Frames != 60 || sum.Epoch != "bbbb0002" {
		t.Errorf("summary %+v: want 1 restart, 0 duplicates, 1 gap, 60 frames, epoch bbbb0002", sum)
	}
	l := r.log.LogEntries("restart: the sequence numbers started over")
	if len(l) != 1 || !strings.Contains(l[0]["message"].(string), "epoch aaaa0001 seq 50 -> epoch bbbb0002 seq 10") ||
		l[0]["old_epoch"] != "aaaa0001" || l[0]["epoch"] != "bbbb0002" {
		t.Errorf("restart log lines %v:\n%s", l, r.log.String())
	}
}

// reconnect drops c and returns the sink's next connection.
func reconnect(t *testing.T, ts *tserver, c *tconn) *tconn {
	t.Helper()
	c.c.CloseNow()
	return ts.accept(t)
}

// TestStartBelowResumeWithoutStatusIsRestart: a server without epochs
// whose hello starts below the resume point and sends no restart status
// (issue 13.1: frames 0..4 were written again on every reconnect, counted
// nowhere). It is a restart: counted once, and its line comes first.
func TestStartBelowResumeWithoutStatusIsRestart(t *testing.T) {
	ts, r, rd, c := startLinked(t, nil)
	c.hello(t, 0, nil)
	c.frames(t, 0, 4)
	readUntil(t, rd, 5*time.Second, lineCount(5*testSamples))
	c2 := reconnect(t, ts, c)
	if got := c2.req.URL.Query(); got.Get("since") != "5" || got.Has("epoch") {
		t.Fatalf("resume query %q, want since=5 without epoch", c2.req.URL.RawQuery)
	}
	c2.hello(t, 0, nil)
	c2.frames(t, 0, 4)
	want := "# restart seq=0\n" + wantCSV(0, 4)
	if got := readUntil(t, rd, 5*time.Second, func(b []byte) bool { return len(b) >= len(want) }); string(got) != want {
		t.Fatalf("port got %q, want %q", got, want)
	}
	sum := r.stop(t)
	if sum.Restarts != 1 || sum.Duplicates != 0 || sum.Frames != 10 {
		t.Errorf("summary %+v: want 1 restart, 0 duplicates, 10 frames", sum)
	}
	if len(r.log.LogEntries("epoch (none) seq 5 -> epoch (none) seq 0")) != 1 {
		t.Errorf("no restart log line naming seq 5 -> 0:\n%s", r.log.String())
	}
}

// TestRestartStatusMidStreamNewEpoch: a device restart while connected:
// one restart, the new epoch is the one resumed with afterwards.
func TestRestartStatusMidStreamNewEpoch(t *testing.T) {
	ts, r, rd, c := startLinked(t, nil)
	c.helloEpoch(t, "aaaa0001", 0)
	c.frames(t, 0, 99)
	c.sendJSON(t, wsproto.Status{Type: wsproto.TypeStatus, State: wsproto.StateRestart, Seq: 0, Epoch: "cccc0003"})
	c.frames(t, 0, 2)
	want := wantCSV(0, 99) + "# restart epoch=cccc0003 seq=0\n" + wantCSV(0, 2)
	if got := readUntil(t, rd, 5*time.Second, func(b []byte) bool { return len(b) >= len(want) }); string(got) != want {
		t.Fatalf("port: %s", firstDiff(got, []byte(want)))
	}
	c2 := reconnect(t, ts, c)
	if q := c2.req.URL.Query(); q.Get("since") != "3" || q.Get("epoch") != "cccc0003" {
		t.Errorf("resume %q, want since=3&epoch=cccc0003", c2.req.URL.RawQuery)
	}
	if sum := r.stop(t); sum.Restarts != 1 || sum.Duplicates != 0 {
		t.Errorf("summary %+v", sum)
	}
}

// TestStoppingStatusIsAnExactGap: serve's last message before it shuts
// down names the seq its count would send next; what the sink did not get
// of that count is one serve_stopped gap, written before the next serve's
// restart line, not a silent jump.
func TestStoppingStatusIsAnExactGap(t *testing.T) {
	ts, r, rd, c := startLinked(t, nil)
	c.helloEpoch(t, "aaaa0001", 0)
	c.frames(t, 0, 9)
	c.sendJSON(t, wsproto.Status{Type: wsproto.TypeStatus, State: wsproto.StateStopping, Seq: 15, Epoch: "aaaa0001", Reason: "serve is shutting down"})
	c2 := reconnect(t, ts, c)
	if q := c2.req.URL.Query(); q.Get("since") != "15" || q.Get("epoch") != "aaaa0001" {
		t.Fatalf("resume query %q, want since=15&epoch=aaaa0001", c2.req.URL.RawQuery)
	}
	c2.helloEpoch(t, "bbbb0002", 0)
	c2.sendJSON(t, wsproto.Status{Type: wsproto.TypeStatus, State: wsproto.StateRestart, Seq: 0, Epoch: "bbbb0002"})
	c2.frames(t, 0, 4)
	want := wantCSV(0, 9) + "# gap 10..14 frames=5 reason=serve_stopped epoch=aaaa0001\n# restart epoch=bbbb0002 seq=0\n" + wantCSV(0, 4)
	got := readUntil(t, rd, 5*time.Second, func(b []byte) bool { return len(b) >= len(want) })
	if string(got) != want {
		t.Fatalf("the port got:\n%s\nwant:\n%s", got, want)
	}
	sum := r.stop(t)
	if sum.Restarts != 1 || sum.Gaps != 1 || len(sum.GapRanges) != 1 || sum.GapRanges[0].Reason != wsproto.GapServeStopped {
		t.Errorf("summary %+v: want 1 restart and 1 serve_stopped gap", sum)
	}
}
