package periodic

import (
	"context"
	"testing"
	"time"
)

func TestEveryStopsWhenFReturnsFalse(t *testing.T) {
	n := 0
	Every(context.Background(), time.Millisecond, nil, func() bool { n++; return n < 3 })
	if n != 3 {
		t.Fatalf("f ran %d times, want 3", n)
	}
}

func TestEveryRunsOnDemandAndStopsWithContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	more := make(chan struct{})
	calls := make(chan struct{}, 10)
	done := make(chan struct{})
	go func() {
		defer close(done)
		Every(ctx, time.Hour, more, func() bool { calls <- struct{}{}; return true })
	}()
	more <- struct{}{} // the hour-long ticker cannot have fired: this call is the demand's
	select {
	case <-calls:
	case <-time.After(5 * time.Second):
		t.Fatal("f did not run when more delivered")
	}
	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Every did not return when ctx ended")
	}
}

// TestSleepReportsWhetherItWaitedTheWholeTime: a short Sleep runs its
// course; a Sleep whose context is cancelled (here before it starts)
// returns false without waiting its hour.
func TestSleepReportsWhetherItWaitedTheWholeTime(t *testing.T) {
	if !Sleep(context.Background(), time.Millisecond) {
		t.Fatal("Sleep(1ms) = false with a live context")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if Sleep(ctx, time.Hour) {
		t.Fatal("Sleep(1h) = true with a cancelled context")
	}
}
