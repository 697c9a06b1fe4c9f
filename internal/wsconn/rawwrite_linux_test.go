package wsconn

import (
	"errors"
	"net"
	"strings"
	"syscall"
	"testing"

	"github.com/wsbridge/wsbridge/internal/testsupport"
)

// rawWriter's errors match and read as net.Conn.Write's: the connection
// is named once, whether the RawConn refused (closed) or the system call
// failed (reset by the peer).
func TestRawWriterErrors(t *testing.T) {
	check := func(what, addr string, err error, want, or error) {
		t.Helper()
		var op *net.OpError
		if !errors.Is(err, want) && !errors.Is(err, or) || !errors.As(err, &op) || op.Op != "write" ||
			strings.Count(err.Error(), addr) != 1 {
			t.Errorf("%s: got %v; want a write *net.OpError matching %v naming the connection once", what, err, want)
		}
	}

	c, _ := testsupport.TCPPair(t)
	w := rawWriter(c)
	c.Close()
	_, err := w([]byte("x"))
	check("after Close", c.RemoteAddr().String(), err, net.ErrClosed, net.ErrClosed)

	c, s := testsupport.TCPPair(t)
	w = rawWriter(c)
	s.SetLinger(0) // the peer resets the connection
	s.Close()
	err = nil
	for i := 0; err == nil && i < 1000; i++ { // the reset arrives within a few writes
		_, err = w(make([]byte, 1<<16))
	}
	check("after a reset", c.RemoteAddr().String(), err, syscall.ECONNRESET, syscall.EPIPE)
}
