package relay

import (
	"errors"
	"net"
	"strings"
	"syscall"
	"testing"
)

// rawWriter's errors match and read as net.Conn.Write's: the connection
// is named once, whether the RawConn refused (closed) or the system call
// failed (reset by the peer).
func TestRawWriterErrors(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	pair := func() (net.Conn, net.Conn) {
		c, err := net.Dial("tcp", l.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		s, err := l.Accept()
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close(); s.Close() })
		return c, s
	}
	check := func(what string, err error, want, or error) {
		t.Helper()
		var op *net.OpError
		if !errors.Is(err, want) && !errors.Is(err, or) || !errors.As(err, &op) || op.Op != "write" ||
			strings.Count(err.Error(), l.Addr().String()) != 1 {
			t.Errorf("%s: got %v; want a write *net.OpError matching %v naming the connection once", what, err, want)
		}
	}

	c, _ := pair()
	w := rawWriter(c)
	c.Close()
	_, err = w([]byte("x"))
	check("after Close", err, net.ErrClosed, net.ErrClosed)

	c, s := pair()
	w = rawWriter(c)
	s.(*net.TCPConn).SetLinger(0) // the peer resets the connection
	s.Close()
	for err = nil; err == nil; {
		_, err = w(make([]byte, 1<<16))
	}
	check("after a reset", err, syscall.ECONNRESET, syscall.EPIPE)
}
