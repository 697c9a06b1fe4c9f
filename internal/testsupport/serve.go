package testsupport

import (
	"context"
	"errors"
	"io"
	"regexp"
	"sync"
	"testing"
	"time"
)

// Served is a serve started by StartServe. Stop is idempotent and safe to
// call from any goroutine.
type Served struct {
	URL string      // the base URL (the page, /api, /healthz), no trailing slash: http://127.0.0.1:N
	WS  string      // the stream's URL: ws://127.0.0.1:N/ws
	Out *SyncBuffer // everything serve printed

	cancel context.CancelFunc
	done   chan struct{} // closed when run has returned
	err    error         // run's result, once done is closed
	once   sync.Once
	stop   error
}

// listening matches serve's line "wsbridge serve: page URL/ stream WSURL".
var listening = regexp.MustCompile(`page (\S+?)/? stream (\S+)`)

// StartServe calls run (serve.Run with its Out set to out) in a goroutine
// and waits up to 10 s for the line saying where serve listens. run's
// options should listen on 127.0.0.1:0. serve is stopped when the test
// ends; a test that checks how it stops calls Stop itself.
func StartServe(t testing.TB, run func(ctx context.Context, out io.Writer) error) *Served {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	s := &Served{Out: &SyncBuffer{}, cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(s.done)
		s.err = run(ctx, s.Out)
	}()
	t.Cleanup(func() { s.Stop() })
	var m []string
	Within(10*time.Second, 5*time.Millisecond, func() bool {
		m = listening.FindStringSubmatch(s.Out.String())
		return m != nil || s.exited()
	})
	switch {
	case m != nil:
		s.URL, s.WS = m[1], m[2]
	case s.exited():
		t.Fatalf("serve exited before listening: %v; it printed %q", s.err, s.Out.String())
	default:
		t.Fatalf("serve did not say where it listens within 10 s; it printed %q", s.Out.String())
	}
	return s
}

func (s *Served) exited() bool {
	select {
	case <-s.done:
		return true
	default:
		return false
	}
}

// Exited reports whether serve has returned, and with what error.
func (s *Served) Exited() (exited bool, err error) {
	if s.exited() {
		return true, s.err
	}
	return false, nil
}

// Stop cancels serve and returns its result, or an error if it has not
// returned within 10 s. Later calls return the same.
func (s *Served) Stop() error {
	s.once.Do(func() {
		s.cancel()
		select {
		case <-s.done:
			s.stop = s.err
		case <-time.After(10 * time.Second):
			s.stop = errors.New("serve did not return within 10 s of being cancelled")
		}
	})
	return s.stop
}
