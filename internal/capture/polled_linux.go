package capture

import (
	"io"
	"time"

	"go.bug.st/serial"

	"github.com/wsbridge/wsbridge/internal/pollio"
	"github.com/wsbridge/wsbridge/internal/serialfd"
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
	*serialfd.Port
	fd *pollio.FD // Port.File, through the raw calls
}

// openDevice opens path for capture, as a polledPort (see
// internal/serialfd), with open (serial.Open) applying mode. Our
// descriptor also takes an exclusive flock (lockDevice) before open, which
// root cannot walk past as it can TIOCEXCL.
func openDevice(path string, mode *serial.Mode, open func(string, *serial.Mode) (serial.Port, error)) (io.ReadWriteCloser, error) {
	p, err := serialfd.Open(path, mode, lockDevice, open)
	if err != nil {
		return nil, err // the errno; classify names the path itself
	}
	rc, err := p.File.SyscallConn()
	if err != nil {
		p.Close()
		return nil, err
	}
	return polledPort{Port: p, fd: pollio.New(rc)}, nil
}

// Read and Write use raw system calls: see internal/pollio. Close
// (serialfd's) wakes a Read parked in the poller with an error.
func (p polledPort) Read(b []byte) (int, error)        { return p.fd.Read(b) }
func (p polledPort) Write(b []byte) (int, error)       { return p.fd.Write(b) }
func (p polledPort) SetReadDeadline(t time.Time) error { return p.File.SetReadDeadline(t) }
