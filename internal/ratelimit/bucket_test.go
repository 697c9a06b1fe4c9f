package ratelimit

import (
	"testing"
	"time"
)

// TestBucket: a burst at once, then Rate a second; held-back calls take
// no token; a long pause refills no more than Burst.
func TestBucket(t *testing.T) {
	b := Bucket{Rate: 10, Burst: 3}
	t0 := time.Unix(100, 0)
	var got []bool
	for _, at := range []time.Duration{0, 0, 0, 0, 50 * time.Millisecond, 100 * time.Millisecond, 150 * time.Millisecond, 10 * time.Second,
		10 * time.Second, 10 * time.Second, 10 * time.Second} {
		got = append(got, b.Allow(t0.Add(at)))
	}
	want := []bool{true, true, true, false, false, true, false, true, true, true, false}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("Allow %d: %v, want %v (all %v)", i, got[i], want[i], got)
		}
	}
	if b.Last() != t0.Add(10*time.Second) {
		t.Fatalf("Last %v", b.Last())
	}
}
