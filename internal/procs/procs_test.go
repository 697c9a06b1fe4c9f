package procs

import (
	"context"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/wsbridge/wsbridge/internal/testsupport"
)

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int
		ok   bool
	}{{"auto", 0, true}, {"", 0, true}, {"0", 0, true}, {"1", 1, true}, {"4", 4, true}, {"-1", 0, false}, {"two", 0, false}} {
		n, err := Parse(tc.in)
		if n != tc.want || (err == nil) != tc.ok {
			t.Errorf("Parse(%q) = %d, %v; want %d, ok=%v", tc.in, n, err, tc.want, tc.ok)
		}
	}
	if _, err := Parse("two"); err == nil || err.Error() != "want auto or a number of CPUs (1 or more)" {
		t.Errorf("Parse(two) error = %v", err)
	}
}

func TestPolicy(t *testing.T) {
	p := newPolicy(4)
	p.calm = 3
	steps := []struct {
		load float64
		want int
	}{
		{0.05, 1}, {0.29, 1}, // light: stay at one
		{0.3, 4},                       // 30 % of a core: all CPUs at once
		{0.05, 4}, {0.05, 4}, {0.2, 4}, // a period between the thresholds resets the count
		{0.05, 4}, {0.05, 4}, {0.09, 1}, // three calm periods in a row: back to one
		{1.5, 4}, {0.0, 4}, {0.9, 4}, // busy again
	}
	for i, s := range steps {
		if got := p.next(s.load); got != s.want {
			t.Fatalf("step %d: next(%v) = %d, want %d", i, s.load, got, s.want)
		}
	}
}

// TestFollowRealLoad burns CPU in this process and checks that GOMAXPROCS
// rises to the maximum, then falls back to one once the burning stops.
func TestFollowRealLoad(t *testing.T) {
	orig := runtime.GOMAXPROCS(0)
	if orig < 2 {
		t.Skip("needs 2 or more CPUs")
	}
	defer runtime.GOMAXPROCS(orig)
	p := newPolicy(orig)
	p.calm = 3
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); follow(ctx, p, 50*time.Millisecond, zerolog.Nop()) }()
	defer func() { cancel(); <-done }()
	waitProcs(t, 1, "at start")
	var stop atomic.Bool
	go func() {
		for !stop.Load() { // burn CPU
		}
	}()
	waitProcs(t, orig, "with a goroutine spinning")
	stop.Store(true)
	waitProcs(t, 1, "after it stopped")
}

// waitProcs waits up to 5 s for GOMAXPROCS to be want.
func waitProcs(t *testing.T, want int, when string) {
	t.Helper()
	if !testsupport.Within(5*time.Second, 10*time.Millisecond, func() bool { return runtime.GOMAXPROCS(0) == want }) {
		t.Fatalf("%s: GOMAXPROCS = %d, want %d", when, runtime.GOMAXPROCS(0), want)
	}
}

func TestAdaptFixedRestores(t *testing.T) {
	orig := runtime.GOMAXPROCS(0)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); Adapt(ctx, "1", zerolog.Nop()) }()
	waitProcs(t, 1, "with --procs 1")
	cancel()
	<-done
	if got := runtime.GOMAXPROCS(0); got != orig {
		t.Fatalf("after Adapt returned: GOMAXPROCS = %d, want the original %d", got, orig)
	}
}

func TestAdaptAutoLeavesEnvironmentChoice(t *testing.T) {
	orig := runtime.GOMAXPROCS(0)
	if orig < 2 {
		t.Skip("needs 2 or more CPUs")
	}
	t.Setenv("GOMAXPROCS", "2")
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	done := make(chan struct{})
	go func() { defer close(done); Adapt(ctx, Auto, zerolog.Nop()) }()
	time.Sleep(100 * time.Millisecond)
	if got := runtime.GOMAXPROCS(0); got != orig {
		t.Fatalf("GOMAXPROCS set in the environment: Adapt changed it to %d (was %d)", got, orig)
	}
	<-done
}
