package source

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"github.com/wsbridge/wsbridge/internal/frame"
	"github.com/wsbridge/wsbridge/internal/periodic"
)

// What a Supervisor does when a source fails before it has ever come up.
const (
	RequireAll  = "all"  // serve starts only if every source comes up: the first start failure stops everything
	RequireNone = "none" // serve starts with the sources that come up; the others are reported down and retried
)

// Restart backoff of a source that failed: doubling from restartMin to
// restartMax.
const (
	restartMin = 500 * time.Millisecond
	restartMax = 10 * time.Second
)

// Runner is one source under a Supervisor: how to make it, where its
// packets go, and what it is called in logs and errors. Set the exported
// fields before Supervisor.Run. Command and Counters reach the source
// running now, so the Runner is what a channel holds as its commander.
type Runner struct {
	Name string                 // the channel's name
	Path string                 // where it was configured, prefixed to its errors: "devices[1].port", "--device mic"; "" for none
	New  func() (Source, error) // a fresh source for each (re)start; an error here is a configuration error
	Pub  Publisher              // the channel

	cur      atomic.Pointer[sourceBox]
	restarts atomic.Uint64
	settled  chan struct{} // closed at the first Up, Down or start failure
	once     sync.Once
}

type sourceBox struct{ s Source }

// Command sends line to the running source, or fails with ErrDown.
func (r *Runner) Command(line string) error {
	if b := r.cur.Load(); b != nil {
		return b.s.Command(line)
	}
	return fmt.Errorf("failed to send command: %s is not running: %w", r.Name, ErrDown)
}

// Counters reports the running source's counters and the restarts.
func (r *Runner) Counters() []Counter {
	var out []Counter
	if b := r.cur.Load(); b != nil {
		out = b.s.Counters()
	}
	return append(out, counter("source_restarts_total", "Times the source failed and was started again.", r.restarts.Load()))
}

func (r *Runner) settle() { r.once.Do(func() { close(r.settled) }) }

// settling passes everything on to the Runner's Publisher and notes the
// first Up or Down.
type settling struct{ r *Runner }

func (s settling) Packet(p *frame.Packet) { s.r.Pub.Packet(p) }
func (s settling) Up(reason string)       { s.r.Pub.Up(reason); s.r.settle() }
func (s settling) Down(reason string)     { s.r.Pub.Down(reason); s.r.settle() }

// Restart passes a source's "the device started over" on to a channel
// that takes it (relay.Channel.Restart).
func (s settling) Restart(reason string) {
	if r, ok := s.r.Pub.(interface{ Restart(string) }); ok {
		r.Restart(reason)
	}
}

// Hold and Flush pass a source's burst of packets on to a channel that
// can write them to its clients together (relay.Channel.Hold).
func (s settling) Hold(on bool) {
	if h, ok := s.r.Pub.(interface{ Hold(bool) }); ok {
		h.Hold(on)
	}
}

// Flush: see Hold.
func (s settling) Flush() {
	if h, ok := s.r.Pub.(interface{ Flush() }); ok {
		h.Flush()
	}
}

// Epoch names the channel's current epoch to a source that asks
// (relay.Channel.Epoch), or "".
func (s settling) Epoch() string {
	if e, ok := s.r.Pub.(interface{ Epoch() string }); ok {
		return e.Epoch()
	}
	return ""
}

// Supervisor runs N sources, each in its own goroutine: a source that
// fails (returns an error, or panics) is reported down on its channel and
// started again with backoff, without touching the others. With
// RequireAll a source that fails before it has ever come up stops them
// all and Run returns its error; with RequireNone serve goes on with
// what it has and keeps retrying the rest.
type Supervisor struct {
	Require string // RequireAll or RequireNone; "" is RequireAll
	Log     zerolog.Logger

	runners   []*Runner
	ready     chan struct{}
	readyOnce sync.Once
}

// Add adds r. Call it before Run.
func (s *Supervisor) Add(r *Runner) {
	r.settled = make(chan struct{})
	s.runners = append(s.runners, r)
}

// Ready is closed once every source has settled: come up, reported
// itself down, or failed to start (and, with RequireNone, been reported
// down). serve prints its listening line then.
func (s *Supervisor) Ready() <-chan struct{} { return s.readyChan() }

func (s *Supervisor) readyChan() chan struct{} {
	s.readyOnce.Do(func() { s.ready = make(chan struct{}) })
	return s.ready
}

// Run runs every source until ctx ends (then it returns nil, once they
// have all returned), or with RequireAll until one fails to start (then
// it stops the others and returns that error).
func (s *Supervisor) Run(ctx context.Context) error {
	ready := s.readyChan()
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var wg sync.WaitGroup
	for _, r := range s.runners {
		wg.Go(func() {
			if err := s.keep(ctx, r); err != nil {
				cancel(err)
			}
		})
	}
	go func() {
		for _, r := range s.runners {
			select {
			case <-r.settled:
			case <-ctx.Done():
				return
			}
		}
		close(ready)
	}()
	wg.Wait()
	if err := context.Cause(ctx); err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return nil
}

// startError is a source that failed before it ever came up, with RequireAll.
type startError struct {
	path string
	err  error
}

func (e *startError) Error() string { return prefixed(e.path, e.err) }

// prefixed is err's message after path, if any.
func prefixed(path string, err error) string {
	if path == "" {
		return err.Error()
	}
	return path + ": " + err.Error()
}
func (e *startError) Unwrap() error { return e.err }

// keep runs r's source, starting it again after each failure, until ctx
// ends. It returns an error only for a start failure under RequireAll or
// a source that cannot be made.
func (s *Supervisor) keep(ctx context.Context, r *Runner) error {
	log := s.Log.With().Str("channel", r.Name).Logger()
	delay, last := restartMin, ""
	for ctx.Err() == nil {
		src, err := r.New()
		if err != nil {
			r.settle()
			return &startError{r.Path, err}
		}
		r.cur.Store(&sourceBox{src})
		err = s.runOnce(ctx, src, r)
		r.cur.Store(nil)
		if ctx.Err() != nil {
			return nil
		}
		up := isClosed(r.settled) // came up (or said it was down) before failing
		if err == nil {
			err = errors.New("the source stopped by itself")
		}
		if !up && s.Require != RequireNone {
			r.settle()
			return &startError{r.Path, err}
		}
		msg := prefixed(r.Path, err)
		if msg != last {
			log.Warn().Err(err).Str("config", r.Path).Dur("retry_in", delay).Msg("device failed; retrying")
			last = msg
		}
		r.Pub.Down(msg)
		r.settle()
		r.restarts.Add(1)
		if !periodic.Sleep(ctx, delay) {
			return nil
		}
		delay = min(2*delay, restartMax)
	}
	return nil
}

// runOnce runs src, turning a panic into an error so that one broken
// source cannot take serve down.
func (s *Supervisor) runOnce(ctx context.Context, src Source, r *Runner) (err error) {
	defer func() {
		if p := recover(); p != nil {
			s.Log.Error().Str("channel", r.Name).Interface("panic", p).Bytes("stack", debug.Stack()).Msg("source panicked")
			err = fmt.Errorf("the source panicked: %v", p)
		}
	}()
	return src.Run(ctx, settling{r})
}

func isClosed(c chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}
