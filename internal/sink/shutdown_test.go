package sink

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/wsbridge/wsbridge/internal/vport"
)

// TestPortShutdownWhileWriteBlocked: --port on a serial device whose far
// end reads nothing, so the sink's write blocks (issue 13.5: SIGINT and
// SIGTERM were ignored until the other end went away). Cancelling, as the
// signal does, ends Run within the flush timeout plus a little, with one
// line saying why and what was lost.
func TestPortShutdownWhileWriteBlocked(t *testing.T) {
	link := filepath.Join(t.TempDir(), "ttyUSBX")
	far, err := vport.Create(link) // the far end: never read
	if err != nil {
		t.Fatal(err)
	}
	defer far.Close()
	var sk *Sink
	ts := newTServer(t, false)
	r := startSink(t, ts.url(), func(o *Options) {
		o.Virtual, o.Port = "", link
		o.onSink = func(s *Sink) { sk = s }
	})
	c := ts.accept(t)
	c.hello(t, 0, nil)
	// enough to fill the tty buffers many times over: the writer blocks
	for s := uint32(0); s < 4000 && sk.st.bytesWritten.Load() < 64<<10; s += 100 {
		c.frames(t, s, s+99)
	}
	for end := time.Now().Add(5 * time.Second); time.Now().Before(end); time.Sleep(10 * time.Millisecond) {
		if _, b := sk.q.level(); b > 0 && !written(sk, 200*time.Millisecond) {
			break // data queued and nothing moves: the write is blocked
		}
	}
	start := time.Now()
	sum := r.stop(t)
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("Run took %s to stop with a blocked write (flush timeout 300ms)", d)
	}
	l := r.log.LogEntries("sink stopped")
	if len(l) != 1 || sum.DroppedFrames == 0 || l[0]["dropped_frames"] != float64(sum.DroppedFrames) {
		t.Errorf("stop lines %v; summary dropped %d", l, sum.DroppedFrames)
	}
}

// written reports whether the sink wrote anything during d.
func written(s *Sink, d time.Duration) bool {
	before := s.st.bytesWritten.Load()
	time.Sleep(d)
	return s.st.bytesWritten.Load() != before
}

// TestSecondSinkOnSameVirtualRefused: a second sink with the same
// --virtual path (issue 13.5: it took the link over silently and deleted
// it on exit) is refused, naming the flag and the first one's pid; the
// first keeps its link and keeps delivering.
func TestSecondSinkOnSameVirtualRefused(t *testing.T) {
	ts := newTServer(t, false)
	r := startSink(t, ts.url(), nil)
	c := ts.accept(t)
	c.hello(t, 0, nil)
	o := DefaultOptions()
	o.URL, o.Virtual, o.Log = ts.url(), r.info.Link, zerolog.Nop()
	err := Run(context.Background(), o)
	want := "--virtual " + r.info.Link + " is in use by another wsbridge sink or sim (pid " + strconv.Itoa(os.Getpid()) + "): stop it first, or choose another --virtual path"
	if !errors.Is(err, ErrOutput) || !errors.Is(err, vport.ErrInUse) || !strings.Contains(err.Error(), want) {
		t.Fatalf("second sink: %v\nwant ErrOutput containing %q", err, want)
	}
	if dst, err := os.Readlink(r.info.Link); err != nil || dst != r.info.Name {
		t.Fatalf("first sink's link -> %q (%v), want %s", dst, err, r.info.Name)
	}
	rd := openLikeR(t, r.info.Link)
	c.frames(t, 0, 0)
	if got := readUntil(t, rd, 5*time.Second, lineCount(testSamples)); string(got) != wantCSV(0, 0) {
		t.Errorf("first sink after the refusal delivered %q", got)
	}
}

// TestVirtualOnAFileNamesTheFlag: --virtual on an existing regular file
// (issue 19: the error said "--link").
func TestVirtualOnAFileNamesTheFlag(t *testing.T) {
	path := filepath.Join(t.TempDir(), "data.csv")
	os.WriteFile(path, []byte("keep"), 0o644)
	o := DefaultOptions()
	o.URL, o.Virtual, o.Log = "ws://127.0.0.1:1/ws", path, zerolog.Nop()
	err := Run(context.Background(), o)
	want := "--virtual " + path + ": " + path + " exists and is not a symlink (a file there is never overwritten): remove it or choose another --virtual path"
	if !errors.Is(err, ErrOutput) || !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "--link") {
		t.Errorf("err = %v\nwant %q", err, want)
	}
	if b, _ := os.ReadFile(path); string(b) != "keep" {
		t.Errorf("file changed: %q", b)
	}
}
