package wsconn

import (
	"net"
	"os"
	"syscall"
	"unsafe"
)

// rawRead returns c's raw reader for idle mode: non-blocking reads and a
// wait for readability on its descriptor, through the runtime's poller,
// with raw system calls (as internal/pollio's, which spare the runtime's
// monitor thread a wake-up). nil for anything but a TCP connection.
func rawRead(c net.Conn) rawReader {
	tc, ok := c.(*net.TCPConn)
	if !ok {
		return nil
	}
	rc, err := tc.SyscallConn()
	if err != nil {
		return nil
	}
	r := &fdReader{rc: rc}
	r.tryFn, r.waitFn = r.try, r.peek
	return r
}

type fdReader struct {
	rc     syscall.RawConn
	p      []byte
	n      int
	errno  syscall.Errno
	tryFn  func(fd uintptr) bool
	waitFn func(fd uintptr) bool
}

// tryRead reads once without waiting: errWouldBlock when nothing is there.
func (r *fdReader) tryRead(p []byte) (int, error) {
	r.p, r.n, r.errno = p, 0, 0
	err := r.rc.Read(r.tryFn)
	r.p = nil
	switch {
	case err != nil:
		return 0, err
	case r.errno == syscall.EAGAIN:
		return 0, errWouldBlock
	case r.errno != 0:
		return 0, os.NewSyscallError("read", r.errno)
	}
	return r.n, nil
}

func (r *fdReader) try(fd uintptr) bool {
	for {
		n, _, e := syscall.RawSyscall(syscall.SYS_READ, fd, uintptr(unsafe.Pointer(&r.p[0])), uintptr(len(r.p)))
		if e == syscall.EINTR {
			continue
		}
		r.n, r.errno = int(n), e
		return true // never wait
	}
}

// wait parks until the descriptor is readable (data, the peer's end or an
// error): a peek of one byte that finds nothing asks the poller to wait.
func (r *fdReader) wait() error {
	r.errno = 0
	err := r.rc.Read(r.waitFn)
	if err == nil && r.errno != 0 {
		err = os.NewSyscallError("recvfrom", r.errno)
	}
	return err
}

func (r *fdReader) peek(fd uintptr) bool {
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
			r.errno = e
		}
		return true
	}
}
