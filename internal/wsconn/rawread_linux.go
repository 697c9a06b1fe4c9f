package wsconn

import (
	"net"

	"github.com/wsbridge/wsbridge/internal/pollio"
)

// rawRead returns c's raw reader for idle mode: internal/pollio's
// non-blocking TryRead and its WaitReadable, through the runtime's poller
// with raw system calls. nil for anything but a TCP connection.
func rawRead(c net.Conn) rawReader {
	tc, ok := c.(*net.TCPConn)
	if !ok {
		return nil
	}
	rc, err := tc.SyscallConn()
	if err != nil {
		return nil
	}
	return fdReader{pollio.New(rc)}
}

type fdReader struct{ fd *pollio.FD }

// tryRead reads once without waiting: errWouldBlock when nothing is there.
func (r fdReader) tryRead(p []byte) (int, error) {
	n, err := r.fd.TryRead(p)
	if err == pollio.ErrWouldBlock {
		err = errWouldBlock
	}
	return n, err
}

// wait parks until the descriptor is readable (data, the peer's end or an
// error).
func (r fdReader) wait() error { return r.fd.WaitReadable() }
