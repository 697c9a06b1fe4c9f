package capture

import (
	"errors"
	"path/filepath"
	"sync"
	"testing"

	"github.com/wsbridge/wsbridge/internal/vport"
)

// Unplug: the pty vanishes (as a USB device does), frames 10..14 are
// "sent" while nobody can hear them, and the pty comes back at the same
// path. The capture reports down and up, and hands on frames 0..9 and
// 15..24 as read (the channel, not capture, names the gap 10..14).
func TestUnplugReopensAndHandsOnFramesAsRead(t *testing.T) {
	p := newPort(t)
	link := p.Link()
	c, rec := start(t, Options{Port: link, Input: InputFrames})
	write(t, p, counterFrames(0, 10, 32, 1))
	rec.waitFor(t, "frames 0..9", func() bool { return len(rec.frames()) >= 10 })

	p.Close()
	rec.waitFor(t, "device down", rec.hasEvent(DeviceDown, 1))
	if err := c.Command("info"); !errors.Is(err, ErrGone) {
		t.Errorf("Command while the device is down: got %v, want ErrGone", err)
	}
	// Frames 10..14 are generated now and lost: nothing carries them.
	p2, err := vport.Create(link)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p2.Close() })
	rec.waitFor(t, "device up again", rec.hasEvent(DeviceUp, 2))
	write(t, p2, counterFrames(15, 25, 32, 1))
	rec.waitFor(t, "frames 15..24", func() bool { return len(rec.frames()) >= 20 })

	for i, f := range rec.frames() {
		want := uint32(i)
		if i >= 10 {
			want = uint32(i + 5)
		}
		if f.Seq != want {
			t.Fatalf("frame %d has seq %d, want %d", i, f.Seq, want)
		}
		checkCounter(t, f)
	}
	s := statsWhen(t, c, framesAtLeast(20))
	if s.Reopens != 1 || s.Downs != 1 || s.Frames != 20 || !s.DeviceUp {
		t.Fatalf("stats %+v", s)
	}
	kinds := []EventKind{}
	for _, e := range rec.eventList() {
		kinds = append(kinds, e.Kind)
	}
	want := []EventKind{DeviceUp, DeviceDown, DeviceUp}
	if len(kinds) != len(want) {
		t.Fatalf("events %v, want %v", kinds, want)
	}
	for i := range want {
		if kinds[i] != want[i] {
			t.Fatalf("events %v, want %v", kinds, want)
		}
	}
}

// With Match, the device is found by USB identity: when it comes back
// under another path (ttyUSB0 -> ttyUSB1), capture follows it. The ptys are
// real; only the USB enumeration is stubbed, as ptys have no USB identity.
func TestMatchFollowsDeviceToNewPath(t *testing.T) {
	p := newPort(t)
	var mu sync.Mutex
	present := []PortInfo{{Path: p.Name(), USB: true, VID: "10c4", PID: "ea60", Serial: "A1"}}
	opts := Options{Match: "10c4:ea60:A1", Input: InputFrames}
	c, rec := startWith(t, opts, func() ([]PortInfo, error) {
		mu.Lock()
		defer mu.Unlock()
		return append([]PortInfo(nil), present...), nil
	})
	write(t, p, counterFrames(0, 5, 32, 1))
	rec.waitFor(t, "frames 0..4", func() bool { return len(rec.frames()) >= 5 })
	p.Close()
	rec.waitFor(t, "device down", rec.hasEvent(DeviceDown, 1))

	first := p.Name()
	decoy := newPort(t) // another board, same model: takes the freed pty number
	p2, err := vport.Create(filepath.Join(t.TempDir(), "ttyOther"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p2.Close() })
	if p2.Name() == first {
		t.Fatalf("the device came back under the same path %s; the test needs a new one", first)
	}
	mu.Lock()
	present = []PortInfo{
		{Path: decoy.Name(), USB: true, VID: "10c4", PID: "ea60", Serial: "B2"},
		{Path: p2.Name(), USB: true, VID: "10c4", PID: "ea60", Serial: "A1"},
	}
	mu.Unlock()
	rec.waitFor(t, "device up again", rec.hasEvent(DeviceUp, 2))
	write(t, p2, counterFrames(5, 10, 32, 1))
	rec.waitFor(t, "frames 5..9", func() bool { return len(rec.frames()) >= 10 })
	if s := statsWhen(t, c, framesAtLeast(10)); s.Port != p2.Name() || s.Reopens != 1 {
		t.Fatalf("stats %+v, want port %s", s, p2.Name())
	}
}
