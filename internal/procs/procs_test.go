package procs

import (
	"context"
	"os"
	"os/exec"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/wsbridge/wsbridge/internal/procstat"
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
	p.calm, p.calm0, p.calmMax, p.backoff, p.forget = 3, 3, 12, 2, 6
	steps := []struct {
		load, wait float64
		want       int
	}{
		{0.05, 0, 1}, {0.3, 0.3, 1}, {0.5, 0.1, 1}, // one P keeps up: stay at one
		{0.6, 0.1, 1}, {0.3, 0, 1}, // one period at 70 % (a GC, a blip): stay
		{0.6, 0.1, 1}, {0.2, 0.5, 4}, // two in a row, from its own work or other processes': all CPUs
		{0.3, 0.9, 4}, {0.44, 0.9, 4}, {0.5, 0, 4}, // at max the wait does not count; a load at lower resets the count
		{0.4, 0, 4}, {0.4, 0, 4}, {0.44, 0, 1}, // three calm periods in a row: back to one
		{0.9, 0.1, 4},                                                                // saturated at once (within backoff of the lowering): all CPUs, and calm doubles
		{0.1, 0, 4}, {0.1, 0, 4}, {0.1, 0, 4}, {0.1, 0, 4}, {0.1, 0, 4}, {0.1, 0, 1}, // six calm periods now
		{0.1, 0, 1}, {0.1, 0, 1}, {0.1, 0, 1}, {0.1, 0, 1}, {0.1, 0, 1}, {0.1, 0, 1}, // six at one P: calm forgets
		{1.5, 0, 4}, {0.0, 0, 4}, {0.0, 0, 4}, {0.0, 0, 1}, // busy again; three calm periods again
	}
	for i, s := range steps {
		if got := p.next(sample{load: s.load, wait: s.wait}); got != s.want {
			t.Fatalf("step %d: next(load %v, wait %v) = %d, want %d (calm %d)", i, s.load, s.wait, got, s.want, p.calm)
		}
	}
}

// TestRunDelaySeesBusyMachine keeps this process's one P busy while
// other processes take every CPU: its thread then waits for a CPU for a
// good share of the time, which procstat.Sched must report (the policy's
// wait), and load and wait together come near a whole core (its demand).
func TestRunDelaySeesBusyMachine(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("run delay is read from /proc on Linux")
	}
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	ctx, cancel := context.WithCancel(context.Background())
	var hogs []*exec.Cmd
	defer func() {
		cancel()
		for _, h := range hogs {
			_ = h.Wait() // killed
		}
	}()
	for range runtime.NumCPU() {
		hog := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestHelperHog$")
		hog.Env = append(os.Environ(), "PROCS_TEST_HOG=1")
		if err := hog.Start(); err != nil {
			t.Fatal(err)
		}
		hogs = append(hogs, hog)
	}
	var stop atomic.Bool
	go func() {
		for !stop.Load() { // this process's one P, busy
		}
	}()
	defer stop.Store(true)
	time.Sleep(200 * time.Millisecond) // the hogs start
	_, before, err := procstat.Sched(0)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Second)
	_, after, _ := procstat.Sched(0)
	share := float64(after-before) / float64(time.Second)
	t.Logf("threads waited for a CPU %.0f%% of the time", share*100)
	if share < 0.25 {
		t.Errorf("%d CPUs taken by other processes, one P spinning: threads waited for a CPU %.0f%% of the time, want at least 25%%",
			runtime.NumCPU(), share*100)
	}
}

// TestHelperHog is not a test: TestRunDelaySeesBusyMachine runs it in
// other processes to keep a CPU busy for up to 5 s.
func TestHelperHog(t *testing.T) {
	if os.Getenv("PROCS_TEST_HOG") != "1" {
		t.Skip("a helper process of TestRunDelaySeesBusyMachine")
	}
	runtime.GOMAXPROCS(1)
	for end := time.Now().Add(5 * time.Second); time.Now().Before(end); {
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
