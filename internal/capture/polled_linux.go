package capture

import (
	"errors"
	"fmt"
	"io"
	"os"
	"syscall"
	"time"

	"go.bug.st/serial"

	"github.com/wsbridge/wsbridge/internal/pollio"
)

// polledPort reads and writes a serial port through the Go runtime's
// network poller (epoll), while go.bug.st/serial keeps the line settings,
// the modem lines and exclusive access on its own descriptor.
//
// go.bug.st/serial reads with a blocking select(2). A goroutine blocked
// there holds an OS thread in a system call, which the runtime's monitor
// thread must keep retaking; at a few hundred reads per second that cost
// serve most of its CPU. A descriptor in the poller parks the goroutine
// instead, and its thread sleeps until data arrives; pollio's raw reads
// then spare the monitor thread its wake-up on each read.
//
// Read and SetReadDeadline belong to the port goroutine and Write to the
// command writer; Close may come from any goroutine, unblocks a Read in
// progress and is safe to call more than once.
type polledPort struct {
	f    *os.File
	fd   *pollio.FD // f, through the raw calls
	port serial.Port
}

// openDevice opens path for capture, as a polledPort. It opens path twice:
// first as a non-blocking file for the poller, then with open (serial.Open)
// to apply mode. The order matters: serial.Open takes the exclusive-access
// lock, which would refuse any later open. Our descriptor also takes an
// exclusive flock (lockDevice), which root cannot walk past as it can
// TIOCEXCL. The two opens are separate file
// descriptions, so go.bug.st/serial's blocking mode does not affect ours.
func openDevice(path string, mode *serial.Mode, open func(string, *serial.Mode) (serial.Port, error)) (io.ReadWriteCloser, error) {
	f, err := os.OpenFile(path, os.O_RDWR|syscall.O_NOCTTY|syscall.O_NONBLOCK, 0)
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			err = pe.Err // the errno; classify names the path itself
		}
		return nil, err
	}
	if err := lockDevice(f); err != nil {
		f.Close()
		return nil, err
	}
	rc, err := f.SyscallConn()
	if err != nil {
		f.Close()
		return nil, err
	}
	p, err := open(path, mode)
	if err != nil {
		f.Close()
		return nil, err
	}
	return &polledPort{f: f, fd: pollio.New(rc), port: p}, nil
}

// Read and Write use raw system calls: see internal/pollio.
func (p *polledPort) Read(b []byte) (int, error)        { return p.fd.Read(b) }
func (p *polledPort) Write(b []byte) (int, error)       { return p.fd.Write(b) }
func (p *polledPort) SetReadDeadline(t time.Time) error { return p.f.SetReadDeadline(t) }

// Close releases go.bug.st/serial's descriptor (and its exclusive lock),
// then ours, which wakes a Read parked in the poller with an error.
func (p *polledPort) Close() error {
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
