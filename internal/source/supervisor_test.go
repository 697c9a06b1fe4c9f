package source_test

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/wsbridge/wsbridge/internal/source"
	"github.com/wsbridge/wsbridge/internal/source/sourcetest"
	"github.com/wsbridge/wsbridge/internal/testsupport"
)

// fakeSource is a unit stand-in (the real sources have their own suite):
// it fails at start, panics, or comes up and stays up, as told.
type fakeSource struct {
	fail   error
	panics bool
	lines  chan string
}

func (f *fakeSource) Run(ctx context.Context, pub source.Publisher) error {
	switch {
	case f.panics:
		panic("the device sent something unheard of")
	case f.fail != nil:
		return f.fail
	}
	pub.Up("open")
	<-ctx.Done()
	return nil
}

func (f *fakeSource) Command(line string) error {
	f.lines <- line
	return nil
}

func (f *fakeSource) Counters() []source.Counter {
	return []source.Counter{{Name: "fake_total", Help: "A counter.", Value: 1}}
}

// attempts makes a source that fails n times (or panics, with panics),
// then comes up.
func attempts(n int, panics bool, made *atomic.Int32, lines chan string) func() (source.Source, error) {
	return func() (source.Source, error) {
		k := made.Add(1)
		if int(k) <= n {
			if panics {
				return &fakeSource{panics: true}, nil
			}
			return &fakeSource{fail: errors.New("/dev/ttyUSB9 not found")}, nil
		}
		return &fakeSource{lines: lines}, nil
	}
}

func runSup(t *testing.T, sup *source.Supervisor) (cancel func(), done chan error) {
	t.Helper()
	ctx, stop := context.WithCancel(context.Background())
	done = make(chan error, 1)
	go func() { done <- sup.Run(ctx) }()
	t.Cleanup(func() { stop(); <-done; done <- nil })
	return stop, done
}

// With RequireAll, a device that cannot be opened at start stops serve
// with its error, prefixed with where it was configured; the others are
// stopped.
func TestSupervisorRequireAll(t *testing.T) {
	var made atomic.Int32
	good := &sourcetest.Recorder{}
	sup := &source.Supervisor{Require: source.RequireAll, Log: zerolog.Nop()}
	sup.Add(&source.Runner{Name: "mic", Path: "devices[0].port", New: attempts(0, false, &made, nil), Pub: good})
	sup.Add(&source.Runner{Name: "accel", Path: "devices[1].port", New: attempts(100, false, new(atomic.Int32), nil), Pub: &sourcetest.Recorder{}})
	_, done := runSup(t, sup)
	select {
	case err := <-done:
		done <- err
		if err == nil || err.Error() != "devices[1].port: /dev/ttyUSB9 not found" {
			t.Fatalf("Run = %v, want devices[1].port: /dev/ttyUSB9 not found", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return")
	}
}

// With RequireNone, a device absent at start is reported down (with its
// field) and retried until it comes up; the others run meanwhile, and
// Ready comes once each has settled. A panicking source is isolated the
// same way. Commands reach the instance running now.
func TestSupervisorRequireNoneRetries(t *testing.T) {
	var absent, panicky, steady atomic.Int32
	lines := make(chan string, 1)
	recs := []*sourcetest.Recorder{{}, {}, {}}
	sup := &source.Supervisor{Require: source.RequireNone, Log: zerolog.Nop()}
	rs := []*source.Runner{
		{Name: "absent", Path: "devices[0].port", New: attempts(2, false, &absent, lines), Pub: recs[0]},
		{Name: "panicky", Path: "devices[1].sim", New: attempts(1, true, &panicky, nil), Pub: recs[1]},
		{Name: "steady", Path: "devices[2].port", New: attempts(0, false, &steady, nil), Pub: recs[2]},
	}
	for _, r := range rs {
		sup.Add(r)
	}
	if err := rs[0].Command("info"); !errors.Is(err, source.ErrDown) {
		t.Fatalf("Command before Run = %v, want ErrDown", err)
	}
	runSup(t, sup)
	select {
	case <-sup.Ready():
	case <-time.After(5 * time.Second):
		t.Fatal("not ready")
	}
	testsupport.WaitFor(t, 10*time.Second, "the absent device to come up", func() bool {
		ev := recs[0].Events()
		return len(ev) > 0 && ev[len(ev)-1] == "up open"
	})
	ev := recs[0].Events()
	if len(ev) != 3 || ev[0] != "down devices[0].port: /dev/ttyUSB9 not found" || ev[1] != ev[0] {
		t.Fatalf("absent device's events %q", ev)
	}
	testsupport.WaitFor(t, 5*time.Second, "the panicking source to come up again", func() bool {
		ev := recs[1].Events()
		return len(ev) == 2 && strings.HasPrefix(ev[0], "down devices[1].sim: the source panicked") && ev[1] == "up open"
	})
	if ev := recs[2].Events(); len(ev) != 1 || ev[0] != "up open" || steady.Load() != 1 {
		t.Fatalf("the steady device was touched: events %q, made %d times", ev, steady.Load())
	}
	if err := rs[0].Command("info"); err != nil || <-lines != "info" {
		t.Fatalf("Command = %v", err)
	}
	var restarts float64
	for _, c := range rs[0].Counters() {
		if c.Name == "source_restarts_total" {
			restarts = c.Value
		}
	}
	if restarts != 2 {
		t.Fatalf("source_restarts_total = %v, want 2", restarts)
	}
}
