package pollio

import (
	"errors"
	"io"
	"os"
	"syscall"
	"unsafe"
)

// FD reads and writes one descriptor. Make it with New; Read and Write
// may run concurrently with each other (one reader and one writer at a
// time, as with the descriptor itself), and neither allocates; so may
// WaitReadable with Read or TryRead.
type FD struct {
	rc     syscall.RawConn
	r      op
	w      op
	tryFn  func(fd uintptr) bool // r.read that never waits, for TryRead
	twFn   func(fd uintptr) bool // w.write that never waits, for TryWrite
	wr     op                    // WaitReadable's own: it may wait while another goroutine reads
	peekFn func(fd uintptr) bool // wr.peek
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
	d.tryFn, d.peekFn, d.twFn = nowait(&d.r, d.r.fn), d.wr.peek, nowait(&d.w, d.w.fn)
	return d
}

// ErrWouldBlock is TryRead's error when there is nothing to read.
var ErrWouldBlock = errors.New("pollio: would block")

// TryRead reads into p (not empty) once, without waiting: ErrWouldBlock
// when nothing is there; (0, nil) at end of file.
func (d *FD) TryRead(p []byte) (int, error) {
	o := &d.r
	o.p, o.n, o.errno = p, 0, 0
	return o.result(d.rc.Read(d.tryFn), "read")
}

// WaitReadable parks the goroutine in the poller until the descriptor is
// readable (data, the peer's end or an error), or until its read deadline
// or Close; it reads nothing.
func (d *FD) WaitReadable() error {
	d.wr.errno = 0
	err := d.rc.Read(d.peekFn)
	if err == nil && d.wr.errno != 0 {
		err = os.NewSyscallError("recvfrom", d.wr.errno)
	}
	return err
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
	return o.result(d.rc.Write(o.fn), "write")
}

// TryWrite writes as much of p as the descriptor takes now, without
// waiting: the bytes written, and ErrWouldBlock when that is less than
// all of p (the descriptor is full). It must not run concurrently with
// Write.
func (d *FD) TryWrite(p []byte) (int, error) {
	o := &d.w
	o.p, o.n, o.errno = p, 0, 0
	return o.result(d.rc.Write(d.twFn), "write")
}

// result ends a call on o: the bytes it moved, and err (the RawConn's:
// closed, deadline), else ErrWouldBlock for the EAGAIN the non-waiting
// callbacks note (the waiting ones never do), else the system call's
// error named call.
func (o *op) result(err error, call string) (int, error) {
	o.p = nil
	switch {
	case err != nil:
	case o.errno == syscall.EAGAIN:
		err = ErrWouldBlock
	case o.errno != 0:
		err = os.NewSyscallError(call, o.errno)
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

// nowait turns callback f of o (read, write) into one that never asks
// the poller to wait: where f would, it notes EAGAIN in o instead.
func nowait(o *op, f func(fd uintptr) bool) func(fd uintptr) bool {
	return func(fd uintptr) bool {
		if !f(fd) {
			o.errno = syscall.EAGAIN
		}
		return true
	}
}

// peek finds whether the descriptor is readable with a peek of one byte
// that leaves it there; false (nothing there) asks the poller to wait.
func (o *op) peek(fd uintptr) bool {
	var b [1]byte
	for {
		_, _, e := syscall.RawSyscall6(syscall.SYS_RECVFROM, fd, uintptr(unsafe.Pointer(&b[0])), 1,
			syscall.MSG_PEEK|syscall.MSG_DONTWAIT, 0, 0)
		switch e {
		case syscall.EINTR:
			continue
		case syscall.EAGAIN:
			return false
		case 0:
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
