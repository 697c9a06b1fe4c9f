package sink

import (
	"context"
	"testing"
	"time"
)

// BenchmarkQueueDropOldest pushes into a full queue that nobody drains
// (R not reading) under --when-full drop-oldest: every push drops the
// oldest frame. The stream is 2 MHz mono in 480-sample frames (240 µs
// each), so the default 5 s buffer holds about 20800 frames behind a
// sticky csv header.
func BenchmarkQueueDropOldest(b *testing.B) {
	q := newQueue(5*time.Second, 64<<20, DropOldest)
	ctx := context.Background()
	h := newChunk()
	h.sticky, h.data = true, append(h.data, "t,ch0\n"...)
	q.push(ctx, h)
	data := make([]byte, 64)
	push := func(seq uint32) {
		c := newChunk()
		c.isFrame, c.seq, c.samples, c.dur = true, seq, 480, 240*time.Microsecond
		c.data = append(c.data, data...)
		q.push(ctx, c)
	}
	var seq uint32
	for ; q.dur+240*time.Microsecond <= q.maxDur; seq++ {
		push(seq)
	}
	b.ResetTimer()
	for range b.N {
		push(seq)
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
