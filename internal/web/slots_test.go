package web

import "testing"

// TestSlotPoolOrder checks how the page slots are handed out (the browser
// tests' own scheduler): heavy tests first, then slow ones, a light test
// beside a running heavy one, and no light test in the slots a heavy test
// is gathering.
func TestSlotPoolOrder(t *testing.T) {
	started := func(w *slotWait) bool {
		select {
		case <-w.ready:
			return true
		default:
			return false
		}
	}
	wait := func(kind pageKind) *slotWait { return &slotWait{kind: kind, ready: make(chan struct{})} }

	// A heavy test runs (2 of 3 slots): the next heavy one cannot start
	// before it ends, so a light one takes the third slot meanwhile.
	h, l := wait(heavy), wait(light)
	p := &slotPool{free: pageSlots - heavy.slots(), heavyOn: 1, queue: []*slotWait{l, h}}
	p.grant()
	if started(h) || !started(l) || p.free != 0 || len(p.queue) != 1 {
		t.Fatalf("beside a running heavy test: heavy started %v, light started %v, %d free, %d waiting; want the light one only",
			started(h), started(l), p.free, len(p.queue))
	}
	p.release(heavy)
	if !started(h) || p.free != 0 || p.heavyOn != 1 {
		t.Fatalf("after the running heavy test: waiting heavy started %v, %d free, %d heavy on; want it started", started(h), p.free, p.heavyOn)
	}

	// Three light tests run; one ends: the heavy test waits for a second
	// slot, and the light test behind it waits too (else it could never gather two).
	h, l = wait(heavy), wait(light)
	p = &slotPool{free: 1, queue: []*slotWait{l, h}}
	p.grant()
	if started(h) || started(l) {
		t.Fatalf("one slot free among light tests: heavy started %v, light started %v; want both waiting", started(h), started(l))
	}
	p.release(light)
	if !started(h) || started(l) || p.free != 0 {
		t.Fatalf("two slots free: heavy started %v, light started %v, %d free; want the heavy one", started(h), started(l), p.free)
	}
	p.release(light)
	if !started(l) {
		t.Fatal("a slot free and no heavy test waiting: the light test did not start")
	}

	// A slow test goes before a light one that asked first.
	l, s := wait(light), wait(slow)
	p = &slotPool{queue: []*slotWait{l, s}}
	p.release(light)
	if !started(s) || started(l) {
		t.Fatalf("one slot free: slow test started %v, light test started %v; want the slow one", started(s), started(l))
	}
}
