package sink

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// TestQueueDropOldestKeepsHeaderAndOrder: a full queue under drop-oldest
// drops the oldest frames, keeps the sticky csv header first and the rest
// in order, and counts the drops with their exact seq range.
func TestQueueDropOldestKeepsHeaderAndOrder(t *testing.T) {
	q := newQueue(10*time.Millisecond, 1<<20, DropOldest)
	ctx := context.Background()
	h := newChunk()
	h.sticky, h.data = true, append(h.data, "H;"...)
	q.push(ctx, h)
	for seq := range uint32(10000) { // 1 ms each: 10 fit, 9990 are dropped
		c := newChunk()
		c.isFrame, c.seq, c.samples, c.dur = true, seq, 1, time.Millisecond
		c.data = fmt.Appendf(c.data, "%d;", seq)
		q.push(ctx, c)
	}
	got, meta, ok := q.pop(ctx, nil, 1<<20, nil)
	if want := "H;9990;9991;9992;9993;9994;9995;9996;9997;9998;9999;"; !ok || string(got) != want || len(meta) != 11 {
		t.Errorf("queue holds %q (%d chunks), want %q", got, len(meta), want)
	}
	_, ended := q.incidentReport(time.Now(), time.Second, true)
	if f, s := q.dropTotals(); f != 9990 || s != 9990 || ended == nil || ended.RangeText() != "0..9989" {
		t.Errorf("dropped %d frames, %d samples, report %+v; want 9990 frames in 0..9989", f, s, ended)
	}
	if cap(q.items) > 4096 {
		t.Errorf("queue of 11 chunks grew to capacity %d", cap(q.items))
	}
}
