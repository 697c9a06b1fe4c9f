package bus

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/wsbridge/wsbridge/internal/bus/natstest"
	"github.com/wsbridge/wsbridge/internal/testsupport"
)

func TestPublishFollowSingle(t *testing.T) {
	n := natstest.RunServer(t)
	c := dial(t, n.URL())
	lg := newMemLog("aaaa0001", 100, 10000)
	publishing(t, c, lg)
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
	publishing(t, c, lg)
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

// Ten frames published one message each: the publisher ends caught up
// with every frame acknowledged once, no duplicate and no failure, the
// stream holds exactly ten messages, and a follower reads exactly the
// frames.
func TestPublisherStoresEachFrameOnce(t *testing.T) {
	n := natstest.RunServer(t)
	c := dial(t, n.URL(), func(c *Config) { c.Batch = 1 }) // a message per frame
	lg := newMemLog("aaaa0001", 0, 10000)
	p := publishing(t, c, lg)
	lg.frames(10)
	testsupport.WaitFor(t, 10*time.Second, "the publisher caught up", p.caughtUp)
	if p.published.Load() != 10 || p.messages.Load() != 10 || p.duplicates.Load() != 0 || p.failures.Load() != 0 {
		t.Fatalf("published %d events in %d messages, %d duplicates, %d failures: want 10, 10, 0, 0",
			p.published.Load(), p.messages.Load(), p.duplicates.Load(), p.failures.Load())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	st, err := c.js.Stream(ctx, c.layout.Stream("mic"))
	if err != nil {
		t.Fatal(err)
	}
	if info, err := st.Info(ctx); err != nil || info.State.Msgs != 10 {
		t.Fatalf("stream info %+v, %v: want 10 messages", info, err)
	}
	rec := newRecorder()
	f, err := c.NewFollower("mic", Start{Since: time.Now().Add(-time.Hour)}, rec)
	if err != nil {
		t.Fatal(err)
	}
	run(t, f.Run)
	lg.frames(1)
	if got, want := describe(rec.waitFrame(t, "aaaa0001", 10)), []string{"frames aaaa0001/0..10"}; !slices.Equal(got, want) {
		t.Fatalf("events:\n got %q\nwant %q", got, want)
	}
}

// A publish answered with a failure while the channel is idle (here "no
// responders": the stream was deleted meanwhile; nats.go retries twice,
// 250 ms apart, then fails the ack) is seen without another event: the
// publisher reads the stream's end again, recreates the stream and
// stores the frame, exactly once.
func TestPublisherIdleAckFailure(t *testing.T) {
	n := natstest.RunServer(t)
	c := dial(t, n.URL(), func(c *Config) { c.Batch = 1 })
	lg := newMemLog("aaaa0001", 0, 10000)
	p := publishing(t, c, lg)
	lg.frames(10)
	testsupport.WaitFor(t, 10*time.Second, "the publisher caught up", p.caughtUp)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.js.DeleteStream(ctx, c.layout.Stream("mic")); err != nil {
		t.Fatal(err)
	}
	lg.frames(1) // frame 10, then nothing
	testsupport.WaitFor(t, 10*time.Second, "the failed publish seen and frame 10 published again", func() bool {
		return p.failures.Load() == 1 && p.caughtUp()
	})
	if got, want := describe(storedEvents(t, c, "mic")), []string{"frames aaaa0001/10..10"}; !slices.Equal(got, want) {
		t.Fatalf("stored:\n got %q\nwant %q", got, want)
	}
	if p.published.Load() != 11 || p.messages.Load() != 11 || p.duplicates.Load() != 0 || p.resyncs.Load() != 2 {
		t.Fatalf("published %d events in %d messages, %d duplicates, %d resyncs: want 11, 11, 0, 2",
			p.published.Load(), p.messages.Load(), p.duplicates.Load(), p.resyncs.Load())
	}
}
