//go:build linux || darwin

package serialfd

import (
	"errors"
	"fmt"
	"os"
	"syscall"

	"go.bug.st/serial"
)

// Port is a serial port open on two descriptors. File is non-blocking and
// in the runtime's poller: read and write through it (Read and Write may
// run concurrently with each other and with Close). Serial, go.bug.st's,
// keeps the line settings, the modem lines and exclusive access. Close
// releases both and may be called more than once.
type Port struct {
	File   *os.File
	Serial serial.Port
}

// Open opens path twice: first non-blocking for the poller, then with open
// (serial.Open, or a test's) to apply mode. The order matters: serial.Open
// takes the exclusive-access lock, which would refuse any later open. The
// two opens are separate file descriptions, so go.bug.st/serial's blocking
// mode is not ours. prepare, when not nil, runs on the polled descriptor
// before open (capture takes its flock there). An error opening path is
// the bare errno: the caller's message names the path.
func Open(path string, mode *serial.Mode, prepare func(*os.File) error, open func(string, *serial.Mode) (serial.Port, error)) (*Port, error) {
	f, err := os.OpenFile(path, os.O_RDWR|syscall.O_NOCTTY|syscall.O_NONBLOCK, 0)
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, err
	}
	if prepare != nil {
		if err := prepare(f); err != nil {
			f.Close()
			return nil, err
		}
	}
	p, err := open(path, mode)
	if err != nil {
		f.Close()
		return nil, err
	}
	return &Port{File: f, Serial: p}, nil
}

// Close releases go.bug.st/serial's descriptor (and its lock), then the
// polled one, which wakes a Read or Write parked in the poller.
func (p *Port) Close() error {
	err1 := p.Serial.Close()
	err2 := p.File.Close()
	if errors.Is(err2, os.ErrClosed) {
		err2 = nil
	}
	if err := errors.Join(err1, err2); err != nil {
		return fmt.Errorf("failed to close port: %w", err)
	}
	return nil
}
