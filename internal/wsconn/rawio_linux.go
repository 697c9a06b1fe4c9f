package wsconn

import (
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
		return n, pollio.OpError(c, "read", err)
	}
	write = func(p []byte) (int, error) {
		n, err := fd.Write(p)
		return n, pollio.OpError(c, "write", err)
	}
	try = func(p []byte) (int, error) {
		n, err := fd.TryWrite(p)
		if err == pollio.ErrWouldBlock {
			return n, errWouldBlock
		}
		return n, pollio.OpError(c, "write", err)
	}
	return read, write, try, idle
}
