//go:build linux || darwin

package sink

import (
	"time"

	"go.bug.st/serial"

	"github.com/wsbridge/wsbridge/internal/serialfd"
)

// realPort is a real serial port whose reads and writes go through a
// non-blocking descriptor that the Go runtime polls, so that a write to a
// port nobody drains can be cut short by a deadline or by Close (a plain
// blocking write, as go.bug.st/serial's, cannot be: SIGTERM then hung the
// sink). go.bug.st/serial's own descriptor applies the mode and holds the
// exclusive lock (see internal/serialfd). Read and Write may be called
// concurrently with each other and with Close; Close is idempotent.
type realPort struct {
	*serialfd.Port
}

// openReal opens path with serialfd: polled for our reads and writes,
// through go.bug.st/serial for the mode. An error is the errno:
// serialError names the path itself.
func openReal(path string, mode *serial.Mode) (outPort, error) {
	p, err := serialfd.Open(path, mode, nil, serial.Open)
	if err != nil {
		return nil, err
	}
	return realPort{p}, nil
}

func (p realPort) Read(b []byte) (int, error)  { return p.File.Read(b) }
func (p realPort) Write(b []byte) (int, error) { return p.File.Write(b) }

// SetWriteDeadline makes a pending and future Write fail after t.
func (p realPort) SetWriteDeadline(t time.Time) error { return p.File.SetWriteDeadline(t) }
