//go:build linux || darwin

package sink

import (
	"errors"
	"fmt"
	"os"
	"syscall"
	"time"

	"go.bug.st/serial"
)

// realPort is a real serial port whose reads and writes go through a
// non-blocking descriptor that the Go runtime polls, so that a write to a
// port nobody drains can be cut short by a deadline or by Close (a plain
// blocking write, as go.bug.st/serial's, cannot be: SIGTERM then hung the
// sink). go.bug.st/serial's own descriptor applies the mode and holds the
// exclusive lock. Read and Write may be called concurrently with each
// other and with Close; Close is idempotent.
type realPort struct {
	f    *os.File
	port serial.Port
}

// openReal opens path twice: first non-blocking for the poller, then with
// go.bug.st/serial for the mode. The order matters: serial.Open takes the
// exclusive-access lock, which would refuse any later open. The two opens
// are separate file descriptions, so serial's blocking mode is not ours.
func openReal(path string, mode *serial.Mode) (outPort, error) {
	f, err := os.OpenFile(path, os.O_RDWR|syscall.O_NOCTTY|syscall.O_NONBLOCK, 0)
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			err = pe.Err // the errno; serialError names the path itself
		}
		return nil, err
	}
	p, err := serial.Open(path, mode)
	if err != nil {
		f.Close()
		return nil, err
	}
	return &realPort{f: f, port: p}, nil
}

func (p *realPort) Read(b []byte) (int, error)  { return p.f.Read(b) }
func (p *realPort) Write(b []byte) (int, error) { return p.f.Write(b) }

// SetWriteDeadline makes a pending and future Write fail after t.
func (p *realPort) SetWriteDeadline(t time.Time) error { return p.f.SetWriteDeadline(t) }

// Close releases go.bug.st/serial's descriptor (and its lock), then ours,
// which wakes a Read or Write parked in the poller.
func (p *realPort) Close() error {
	err1 := p.port.Close()
	err2 := p.f.Close()
	if errors.Is(err2, os.ErrClosed) {
		err2 = nil
	}
	if err := errors.Join(err1, err2); err != nil {
		return fmt.Errorf("failed to close port: %w", err)
	}
	return nil
}
