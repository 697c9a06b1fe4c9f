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
