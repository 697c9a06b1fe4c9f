package pollio

import (
	"io"
	"os"
	"syscall"
	"unsafe"
)

// FD reads and writes one descriptor. Make it with New; Read and Write
// may run concurrently with each other (one reader and one writer at a
// time, as with the descriptor itself), and neither allocates.
type FD struct {
	rc syscall.RawConn
	r  op
	w  op
}

// op is one direction's state, kept between calls so that the function
// handed to the RawConn is built once rather than on every call.
type op struct {
	p     []byte
	n     int
	errno syscall.Errno
	fn    func(fd uintptr) bool
}

// New wraps rc (from SyscallConn of an *os.File opened O_NONBLOCK, or of
// a *net.TCPConn).
func New(rc syscall.RawConn) *FD {
	d := &FD{rc: rc}
	d.r.fn = d.r.read
	d.w.fn = d.w.write
	return d
}

// Read reads into p once data is available, parking the goroutine in the
// poller until then (or until the descriptor's read deadline, or Close).
// A read of zero bytes at end of file returns io.EOF.
func (d *FD) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	o := &d.r
	o.p, o.n, o.errno = p, 0, 0
	err := d.rc.Read(o.fn)
	o.p = nil
	switch {
	case err != nil:
		return 0, err
	case o.errno != 0:
		return 0, os.NewSyscallError("read", o.errno)
	case o.n == 0:
		return 0, io.EOF
	}
	return o.n, nil
}

// Write writes all of p, parking the goroutine in the poller whenever the
// descriptor is full (until its write deadline, or Close). It returns the
// bytes written and the first error.
func (d *FD) Write(p []byte) (int, error) {
	o := &d.w
	o.p, o.n, o.errno = p, 0, 0
	err := d.rc.Write(o.fn)
	o.p = nil
	if err == nil && o.errno != 0 {
		err = os.NewSyscallError("write", o.errno)
	}
	return o.n, err
}

// read is the RawConn callback: one read, retried on EINTR; false asks
// the poller to wait for the descriptor.
func (o *op) read(fd uintptr) bool {
	for {
		n, _, e := syscall.RawSyscall(syscall.SYS_READ, fd, uintptr(unsafe.Pointer(&o.p[0])), uintptr(len(o.p)))
		switch e {
		case syscall.EINTR:
			continue
		case syscall.EAGAIN:
			return false
		case 0:
			o.n = int(n)
		default:
			o.errno = e
		}
		return true
	}
}

// write is the RawConn callback: writes until all of p is written, an
// error, or the descriptor is full (false: wait, then call again).
func (o *op) write(fd uintptr) bool {
	for o.n < len(o.p) {
		rest := o.p[o.n:]
		n, _, e := syscall.RawSyscall(syscall.SYS_WRITE, fd, uintptr(unsafe.Pointer(&rest[0])), uintptr(len(rest)))
		switch e {
		case 0:
			o.n += int(n)
		case syscall.EINTR:
		case syscall.EAGAIN:
			return false
		default:
			o.errno = e
			return true
		}
	}
	return true
}
