package wsconn

import (
	"io"
	"net"
	"syscall"

	"github.com/wsbridge/wsbridge/internal/pollio"
)

// rawIO returns how Conn reads from and writes to c: through
// internal/pollio's raw system calls for a TCP connection, which spares
// the runtime's monitor thread a wake-up per call (a WebSocket publisher
// costs a read per message, a client a write per batch); c.Read and
// c.Write for anything else. Errors read as c.Read's and c.Write's:
// "read tcp A->B: ...", io.EOF at the peer's end. idle is the raw reader
// for idle mode, on the same pollio.FD: non-nil for a TCP connection only.
// try writes without waiting (errWouldBlock with the count when the
// socket is full): non-nil with raw system calls only.
func rawIO(c net.Conn) (read, write, try func([]byte) (int, error), idle rawReader) {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return c.Read, c.Write, nil, nil
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return c.Read, c.Write, nil, nil
	}
	fd := pollio.New(rc)
	if _, ok := c.(*net.TCPConn); ok {
		idle = fdReader{fd}
	}
	read = func(p []byte) (int, error) {
		n, err := fd.Read(p)
		return n, opError(c, "read", err)
	}
	write = func(p []byte) (int, error) {
		n, err := fd.Write(p)
		return n, opError(c, "write", err)
	}
	try = func(p []byte) (int, error) {
		n, err := fd.TryWrite(p)
		if err == pollio.ErrWouldBlock {
			return n, errWouldBlock
		}
		return n, opError(c, "write", err)
	}
	return read, write, try, idle
}

// opError names the operation and the connection in a pollio error, as
// net.Conn's own errors do; io.EOF and nil pass unchanged.
func opError(c net.Conn, op string, err error) error {
	switch e := err.(type) {
	case nil:
	case *net.OpError: // the RawConn's own (closed, deadline): it names the connection already
		e.Op = op
	default:
		if err == io.EOF {
			return err
		}
		// the system call's errno
		err = &net.OpError{Op: op, Net: c.LocalAddr().Network(), Source: c.LocalAddr(), Addr: c.RemoteAddr(), Err: err}
	}
	return err
}
