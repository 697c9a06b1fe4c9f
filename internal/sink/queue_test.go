package sink

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// stickyChunk is a sticky chunk (a csv header) holding s.
func stickyChunk(s string) *chunk {
	c := newChunk(len(s))
	c.sticky, c.data = true, append(c.data, s...)
	return c
}

// frameOf is a frame chunk: frame seq of samples instants lasting dur,
// rendered as data.
func frameOf(seq uint32, samples uint64, dur time.Duration, data []byte) *chunk {
	c := newChunk(len(data))
	c.isFrame, c.seq, c.samples, c.dur = true, seq, samples, dur
	c.data = append(c.data, data...)
	return c
}

// TestQueueWhenFull: 10000 frames of 1 ms into a queue of 10 ms. Under
// drop-oldest the queue ends with the newest 10 frames, under drop-newest
// with the first 10; either way the sticky csv header stays first, the
// rest is in order, and the drops are counted with their exact seq range.
func TestQueueWhenFull(t *testing.T) {
	for _, tc := range []struct{ policy, holds, dropped string }{
		{DropOldest, "H;9990;9991;9992;9993;9994;9995;9996;9997;9998;9999;", "0..9989"},
		{DropNewest, "H;0;1;2;3;4;5;6;7;8;9;", "10..9999"},
	} {
		t.Run(tc.policy, func(t *testing.T) {
			q := newQueue(10*time.Millisecond, 1<<20, 1<<16, tc.policy)
			ctx := context.Background()
			q.push(ctx, stickyChunk("H;"))
			for seq := range uint32(10000) { // 1 ms each: 10 fit, 9990 are dropped
				q.push(ctx, frameOf(seq, 1, time.Millisecond, fmt.Appendf(nil, "%d;", seq)))
			}
			got, meta, ok := q.pop(ctx, nil, 1<<20, nil)
			if !ok || string(got) != tc.holds || len(meta) != 11 {
				t.Errorf("queue holds %q (%d chunks), want %q", got, len(meta), tc.holds)
			}
			_, ended := q.incidentReport(time.Now(), time.Second, true)
			if f, s := q.dropTotals(); f != 9990 || s != 9990 || ended == nil || ended.RangeText() != tc.dropped {
				t.Errorf("dropped %d frames, %d samples, report %+v; want 9990 frames in %s", f, s, ended, tc.dropped)
			}
			if cap(q.items) > 4096 {
				t.Errorf("queue of 11 chunks grew to capacity %d", cap(q.items))
			}
		})
	}
}

// BenchmarkQueueDropOldest pushes into a full queue that nobody drains
// (R not reading) under --when-full drop-oldest: every push drops the
// oldest frame. The stream is 2 MHz mono in 480-sample frames (240 µs
// each), so the default 5 s buffer holds about 20800 frames behind a
// sticky csv header.
func BenchmarkQueueDropOldest(b *testing.B) {
	q := newQueue(5*time.Second, 64<<20, 1<<16, DropOldest)
	ctx := context.Background()
	q.push(ctx, stickyChunk("t,ch0\n"))
	data := make([]byte, 64)
	var seq uint32
	for ; q.dur+240*time.Microsecond <= q.maxDur; seq++ {
		q.push(ctx, frameOf(seq, 480, 240*time.Microsecond, data))
	}
	b.ResetTimer()
	for range b.N {
		q.push(ctx, frameOf(seq, 480, 240*time.Microsecond, data))
		seq++
	}
	b.StopTimer()
	if f, _ := q.dropTotals(); f != uint64(b.N) {
		b.Fatalf("dropped %d frames, want %d", f, b.N)
	}
	if !q.items[q.head].sticky {
		b.Fatal("the csv header was dropped")
	}
	b.ReportMetric(float64(cap(q.items)), "queue_cap")
}
