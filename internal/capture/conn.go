package capture

import (
	"errors"
	"io"
	"os"
	"sync"
	"time"

	"go.bug.st/serial"
)

// conn is one open device: a serial port or the simulator. The port
// goroutine reads it; the writer goroutine writes it; close may come from
// either, or from context cancellation, and is idempotent.
type conn struct {
	rwc  io.ReadWriteCloser
	name string // path, or "sim"

	setTimeout func(time.Duration) error // nil if reads cannot time out
	deadline   func(time.Time) error     // for rwc with SetReadDeadline
	timeout    time.Duration

	mu       sync.Mutex
	closed   bool
	inflight sync.WaitGroup
	once     sync.Once
	closeErr error
}

func newConn(rwc io.ReadWriteCloser, name string) *conn {
	c := &conn{rwc: rwc, name: name}
	switch p := rwc.(type) {
	case interface{ SetReadTimeout(time.Duration) error }:
		c.setTimeout = p.SetReadTimeout
	case interface{ SetReadDeadline(time.Time) error }:
		c.deadline = p.SetReadDeadline
		c.setTimeout = func(d time.Duration) error { c.timeout = d; return nil }
	}
	return c
}

// canTimeout reports whether a read returns (0, nil) after a quiet period.
func (c *conn) canTimeout() bool { return c.setTimeout != nil }

// read reads into p. (0, nil) means the read timed out.
func (c *conn) read(p []byte) (int, error) {
	if c.deadline != nil && c.timeout > 0 {
		if err := c.deadline(time.Now().Add(c.timeout)); err != nil {
			return 0, err
		}
	}
	n, err := c.rwc.Read(p)
	if errors.Is(err, os.ErrDeadlineExceeded) {
		err = nil
	}
	return n, err
}

// write writes p unless the conn is closed. A write in progress keeps the
// descriptor's file alive in the kernel, so close may run concurrently; a
// write that has not started must never reach a closed (and maybe reused)
// descriptor, hence the closed flag and the in-flight count.
func (c *conn) write(p []byte) error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return ErrGone
	}
	c.inflight.Add(1)
	c.mu.Unlock()
	defer c.inflight.Done()
	_, err := c.rwc.Write(p)
	return err
}

// closeWait bounds how long close waits for a write to enter the kernel.
const closeWait = 100 * time.Millisecond

func (c *conn) close() error {
	c.once.Do(func() {
		c.mu.Lock()
		c.closed = true
		c.mu.Unlock()
		done := make(chan struct{})
		go func() { c.inflight.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(closeWait):
		}
		c.closeErr = c.rwc.Close()
	})
	return c.closeErr
}

// isClosedErr reports whether err is go.bug.st/serial's "port closed",
// which it returns both for our own Close and for an unplugged device.
func isClosedErr(err error) bool {
	var pe *serial.PortError
	return errors.As(err, &pe) && pe.Code() == serial.PortClosed
}
