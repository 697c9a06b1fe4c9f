package sink

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wsbridge/wsbridge/internal/testsupport"
	"github.com/wsbridge/wsbridge/internal/vport"
)

func TestStatusLogLineEveryInterval(t *testing.T) {
	t.Parallel() // mostly waiting: overlaps with the other parallel tests
	ts := newTServer(t, false)
	r := startSink(t, ts.url(), func(o *Options) { o.StatusInterval = 300 * time.Millisecond })
	c := ts.accept(t)
	c.hello(t, 0, nil)
	c.frames(t, 0, 9)
	lines := r.log.WaitLogEntries(t, "status", 2, 5*time.Second) // every 300ms
	l := lines[len(lines)-1]
	if l["connected"] != true || l["frames"] != float64(10) || l["gaps"] != float64(0) || l["dropped_frames"] != float64(0) {
		t.Errorf("status line %v", l)
	}
}

func TestLiveTermRedrawsAroundLogLines(t *testing.T) {
	var out testsupport.SyncBuffer
	lt := NewLiveTerm(&out)
	lt.set("connected 1s | 1000 S/s")
	lt.Write([]byte("10:00:00 WRN gap\n"))
	lt.set("")
	want := "\rconnected 1s | 1000 S/s\x1b[K" + "\r\x1b[K" + "10:00:00 WRN gap\n" + "\rconnected 1s | 1000 S/s\x1b[K" + "\r\x1b[K"
	if out.String() != want {
		t.Errorf("terminal got %q\nwant %q", out.String(), want)
	}
}

func TestDropIncidentLoggedWithExactRanges(t *testing.T) {
	t.Parallel() // mostly waiting: overlaps with the other parallel tests
	ts := newTServer(t, false)
	r := startSink(t, ts.url(), func(o *Options) { o.Buffer, o.WhenFull = 50*time.Millisecond, DropNewest })
	c := ts.accept(t)
	c.hello(t, 0, nil)
	for s := uint32(0); s < 600; s++ { // for 0.6s; nobody reads the port
		c.frames(t, s, s)
		time.Sleep(time.Millisecond)
	}
	sum := r.stop(t)
	starts := r.log.LogEntries("output buffer full")
	ends := r.log.LogEntries("that the port could not take")
	if len(starts) != 1 || len(ends) == 0 {
		t.Fatalf("want one start and at least one end of the drop incident, got %d and %d:\n%s", len(starts), len(ends), r.log.String())
	}
	var frames float64
	var ranges []string
	for _, e := range ends {
		frames += e["frames"].(float64)
		ranges = append(ranges, e["seq_ranges"].(string))
	}
	var want []string
	for _, d := range sum.DropRanges {
		want = append(want, d.String())
	}
	if uint64(frames) != sum.DroppedFrames || strings.Join(ranges, ", ") != strings.Join(want, ", ") {
		t.Errorf("logged %v frames in %v; summary %d frames in %v", frames, ranges, sum.DroppedFrames, want)
	}
}

func TestBudgetWarnedOnRealPort(t *testing.T) {
	link := filepath.Join(t.TempDir(), "ttyUSBX")
	far, err := vport.Create(link)
	if err != nil {
		t.Fatal(err)
	}
	defer far.Close()
	ts := newTServer(t, false)
	r := startSink(t, ts.url(), func(o *Options) { o.Virtual, o.Port, o.Baud = "", link, 9600 })
	c := ts.accept(t)
	c.hello(t, 0, nil)
	c.frames(t, 0, 0)
	l := r.log.WaitLogEntries(t, "cannot be delivered", 1, 5*time.Second)
	if len(l) != 1 || !strings.Contains(l[0]["message"].(string), "but 9600 baud carries 1.0 kB/s") {
		t.Fatalf("budget warning: %v\n%s", l, r.log.String())
	}
}

func TestHowToOpenNamesThePortForBothRWays(t *testing.T) {
	o := DefaultOptions()
	o.URL = "ws://h:8080/ws?token=x"
	got := howToOpen(PortInfo{Name: "/dev/pts/5", Link: "/tmp/ttyESP", Virtual: true, Baud: 921600}, &o)
	for _, want := range []string{
		"virtual serial port /dev/pts/5 (link /tmp/ttyESP)",
		`con <- file("/dev/pts/5", open = "r", raw = TRUE, blocking = FALSE)`,
		`serial::serialConnection(port = "pts/5", mode = "921600,n,8,1", translation = "binary")`,
		`read.serialConnection(con, n = 4096)`,
		`wsbridge_read("/tmp/ttyESP", n_max = 10000)`,
		"from ws://h:8080/ws to",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("missing %q in:\n%s", want, got)
		}
	}
	if strings.Contains(got, "token") || strings.Contains(got, "REDACTED") {
		t.Errorf("the token, or a placeholder for it, is printed:\n%s", got)
	}
}

// TestStatusTextBeforeTheFirstConnection: a sink that never connected says
// "connecting", not "DISCONNECTED" (issue 13.5).
func TestStatusTextBeforeTheFirstConnection(t *testing.T) {
	var sk *Sink
	startSink(t, "ws://127.0.0.1:1/ws", func(o *Options) { o.onSink = func(s *Sink) { sk = s } })
	if got := sk.statusText(time.Now(), 0); !strings.HasPrefix(got, "connecting 0s |") {
		t.Errorf("status %q", got)
	}
}
