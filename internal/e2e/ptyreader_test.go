package e2e

import (
	"bytes"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// ptyReader reads a sink's virtual serial port the way R does (base R's
// file(port, "r", raw = TRUE, blocking = FALSE): a non-blocking read-only
// open of the pty slave) and feeds every complete line to a counterCheck.
type ptyReader struct {
	f     *os.File
	chk   *counterCheck
	bytes atomic.Int64
	lines atomic.Int64
	pause atomic.Bool // while true the reader stops reading (a stalled R)
	done  chan struct{}
	err   error
	once  sync.Once
}

func openPTYReader(name string, chk *counterCheck) (*ptyReader, error) {
	f, err := os.OpenFile(name, os.O_RDONLY|syscall.O_NOCTTY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	r := &ptyReader{f: f, chk: chk, done: make(chan struct{})}
	go r.loop()
	return r, nil
}

func (r *ptyReader) loop() {
	defer close(r.done)
	buf := make([]byte, 64<<10)
	var pending []byte
	for {
		for r.pause.Load() {
			time.Sleep(5 * time.Millisecond)
		}
		n, err := r.f.Read(buf)
		r.bytes.Add(int64(n))
		pending = append(pending, buf[:n]...)
		for {
			i := bytes.IndexByte(pending, '\n')
			if i < 0 {
				break
			}
			r.chk.line(pending[:i])
			r.lines.Add(1)
			pending = pending[i+1:]
		}
		pending = append([]byte(nil), pending...)
		if err != nil {
			r.err = err // EIO once the sink closes the pty: the end
			return
		}
	}
}

// waitLines waits until at least n lines have been read, or fails after d.
func (r *ptyReader) waitLines(t testing.TB, n int64, d time.Duration) {
	t.Helper()
	deadline := time.Now().Add(d)
	for r.lines.Load() < n {
		if time.Now().After(deadline) {
			t.Fatalf("pty reader: %d lines after %v, want %d (%s)", r.lines.Load(), d, n, r.chk.state())
		}
		select {
		case <-r.done:
			t.Fatalf("pty reader ended after %d lines (want %d): %v", r.lines.Load(), n, r.err)
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// close stops reading (idempotent).
func (r *ptyReader) close() {
	r.once.Do(func() { r.f.Close(); <-r.done })
}
