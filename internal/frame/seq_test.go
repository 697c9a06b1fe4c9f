package frame_test

import (
	"testing"

	"github.com/wsbridge/wsbridge/internal/frame"
)

func TestSeqTracker(t *testing.T) {
	type step struct {
		seq  uint32
		want frame.SeqEvent
	}
	ev := func(k frame.SeqKind, seq, from, to, lost uint32) frame.SeqEvent {
		return frame.SeqEvent{Kind: k, Seq: seq, From: from, To: to, Lost: lost}
	}
	var w uint32 = frame.DuplicateWindow
	steps := []step{
		{100, ev(frame.SeqFirst, 100, 0, 0, 0)},
		{101, ev(frame.SeqInOrder, 101, 0, 0, 0)},
		{105, ev(frame.SeqGap, 105, 102, 104, 3)},
		{103, ev(frame.SeqDuplicate, 103, 0, 0, 0)}, // late: dropped, expectation unchanged
		{106, ev(frame.SeqInOrder, 106, 0, 0, 0)},
		{0, ev(frame.SeqRestart, 0, 0, 0, 0)}, // the device rebooted
		{1, ev(frame.SeqInOrder, 1, 0, 0, 0)},
		{0xFFFFFFFE, ev(frame.SeqDuplicate, 0xFFFFFFFE, 0, 0, 0)}, // 4 behind 2, across the wrap
		{0xFFFFF000, ev(frame.SeqRestart, 0xFFFFF000, 0, 0, 0)},   // 4098 behind: restart
		{0xFFFFFFFF, ev(frame.SeqGap, 0xFFFFFFFF, 0xFFFFF001, 0xFFFFFFFE, 0xFFE)},
		{0, ev(frame.SeqInOrder, 0, 0, 0, 0)}, // wrap is not a restart
		{3, ev(frame.SeqGap, 3, 1, 2, 2)},
		{4 - w, ev(frame.SeqDuplicate, 4-w, 0, 0, 0)}, // exactly DuplicateWindow behind 4
		{3 - w, ev(frame.SeqRestart, 3-w, 0, 0, 0)},   // one further

	}
	var tr frame.SeqTracker
	for i, s := range steps {
		if got := tr.Observe(s.seq); got != s.want {
			t.Fatalf("step %d seq %d: got %+v, want %+v", i, s.seq, got, s.want)
		}
	}
}

func TestSeqTrackerGapAcrossWrap(t *testing.T) {
	var tr frame.SeqTracker
	tr.Expect(0xFFFFFFF0)
	got := tr.Observe(5)
	want := frame.SeqEvent{Kind: frame.SeqGap, Seq: 5, From: 0xFFFFFFF0, To: 4, Lost: 21}
	if got != want {
		t.Fatalf("got %+v, want %+v", got, want)
	}
}

func TestSeqBefore(t *testing.T) {
	for _, c := range []struct {
		a, b uint32
		want bool
	}{
		{1, 2, true}, {2, 1, false}, {5, 5, false},
		{0xFFFFFFFF, 0, true}, {0, 0xFFFFFFFF, false}, // across the wrap
		{0, 1<<31 - 1, true}, {0, 1<<31 + 1, false}, // more than half the circle ahead: behind
		{1 << 31, 0, true},
	} {
		if got := frame.SeqBefore(c.a, c.b); got != c.want {
			t.Errorf("SeqBefore(%d, %d) = %v, want %v", c.a, c.b, got, c.want)
		}
	}
}

// Announced: a gap the sender announces is counted once, whatever of it
// the receiver had already accounted for, and frames missing before it
// without an announcement are named apart; across the wrap too.
func TestSeqTrackerAnnounced(t *testing.T) {
	gap := func(from, to uint32) frame.SeqEvent {
		return frame.SeqEvent{Kind: frame.SeqGap, From: from, To: to, Lost: to - from + 1}
	}
	none := frame.SeqEvent{Kind: frame.SeqInOrder}
	for _, c := range []struct {
		name        string
		expect      uint32 // 0 with fresh: nothing seen yet
		fresh       bool
		from, to    uint32
		missed, gap frame.SeqEvent
		next        uint32
	}{
		{"nothing seen yet", 0, true, 5, 7, none, gap(5, 7), 8},
		{"exactly at the expected number", 5, false, 5, 7, none, gap(5, 7), 8},
		{"after an unannounced hole", 3, false, 5, 7, gap(3, 4), gap(5, 7), 8},
		{"partly seen already", 6, false, 5, 7, none, gap(6, 7), 8},
		{"all accounted for", 8, false, 5, 7, none, frame.SeqEvent{Kind: frame.SeqDuplicate, From: 5, To: 7}, 8},
		{"across the wrap", 0xfffffffe, false, 0xffffffff, 1, gap(0xfffffffe, 0xfffffffe), gap(0xffffffff, 1), 2},
	} {
		var tr frame.SeqTracker
		if !c.fresh {
			tr.Expect(c.expect)
		}
		missed, g := tr.Announced(c.from, c.to)
		if next, _ := tr.Next(); missed != c.missed || g != c.gap || next != c.next {
			t.Errorf("%s: missed %+v gap %+v next %d, want %+v %+v %d", c.name, missed, g, next, c.missed, c.gap, c.next)
		}
	}
}
