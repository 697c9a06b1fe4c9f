package bus

import (
	"slices"
	"testing"
	"time"

	"github.com/wsbridge/wsbridge/internal/bus/natstest"
)

func TestPublishFollowSingle(t *testing.T) {
	n := natstest.RunServer(t)
	c := dial(t, n.URL())
	lg := newMemLog("aaaa0001", 100, 10000)
	p, err := c.NewPublisher("mic", lg, testSettings)
	if err != nil {
		t.Fatal(err)
	}
	run(t, p.Run)
	lg.status(KindUp, "open /dev/ttyUSB0")
	lg.frames(500)
	lg.gap(3)
	lg.logLine("boot ok")
	lg.frames(10)
	lg.restart("bbbb0002", 0)
	lg.frames(20)

	rec := newRecorder()
	f, err := c.NewFollower("mic", Start{Since: time.Now().Add(-time.Hour)}, rec)
	if err != nil {
		t.Fatal(err)
	}
	run(t, f.Run)
	evs := rec.waitFrame(t, "bbbb0002", 19)
	want := []string{`up aaaa0001/100 "open /dev/ttyUSB0"`, "frames aaaa0001/100..599", "gap aaaa0001/600..602 (device)",
		`log aaaa0001/603 ""`, "frames aaaa0001/603..612", "restart bbbb0002/0", "frames bbbb0002/0..19"}
	if got := describe(evs); !slices.Equal(got, want) {
		t.Fatalf("events:\n got %q\nwant %q", got, want)
	}
	checkPackets(t, evs)
}

// slowReplica is a mirror whose Apply stalls once, as a channel whose
// host is starved would.
type slowReplica struct {
	*recorder
	stall   time.Duration
	stalled bool
}

func (s *slowReplica) Apply(ev *Event) {
	if !s.stalled && ev.Kind == KindFrame && ev.Seq == 100 {
		s.stalled = true
		time.Sleep(s.stall) // the consumer's messages pile up meanwhile
	}
	s.recorder.Apply(ev)
}

// A follower that stalls for a second while 2000 frames are published
// (one message each, so the consumer's pull window is what bounds them)
// loses nothing, repeats nothing, and keeps following.
func TestSlowMirror(t *testing.T) {
	n := natstest.RunServer(t)
	c := dial(t, n.URL(), func(c *Config) { c.Batch = 1 })
	lg := newMemLog("aaaa0001", 0, 10000)
	p, err := c.NewPublisher("mic", lg, testSettings)
	if err != nil {
		t.Fatal(err)
	}
	run(t, p.Run)
	rec := &slowReplica{recorder: newRecorder(), stall: time.Second}
	fc := dial(t, n.URL())
	f, err := fc.NewFollower("mic", Start{Since: time.Now().Add(-time.Hour)}, rec)
	if err != nil {
		t.Fatal(err)
	}
	run(t, f.Run)
	lg.frames(2000)
	evs := rec.waitFrame(t, "aaaa0001", 1999)
	if got, want := describe(evs), []string{"frames aaaa0001/0..1999"}; !slices.Equal(got, want) {
		t.Fatalf("events:\n got %q\nwant %q", got, want)
	}
	lg.frames(1)
	rec.waitFrame(t, "aaaa0001", 2000)
	t.Logf("follower: resets %d, skipped %d, duplicates %d; connection: slow consumer events %d",
		f.resets.Load(), f.skipped.Load(), f.duplicates.Load(), fc.slowConsumers.Load())
}
