package wsconn

import (
	"errors"
	"io"
	"net"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/wsbridge/wsbridge/internal/testsupport"
)

// rawIO's errors match and read as net.Conn's Read and Write: the
// connection is named once, whether the RawConn refused (closed,
// deadline) or the system call failed (reset by the peer); the peer's end
// is io.EOF; a read deadline is a timeout, as net/http expects of the
// read it aborts.
func TestRawIOErrors(t *testing.T) {
	check := func(what, op, addr string, err error, want, or error) {
		t.Helper()
		var oe *net.OpError
		if !errors.Is(err, want) && !errors.Is(err, or) || !errors.As(err, &oe) || oe.Op != op ||
			strings.Count(err.Error(), addr) != 1 {
			t.Errorf("%s: got %v; want a %s *net.OpError matching %v naming the connection once", what, err, op, want)
		}
	}

	c, _ := testsupport.TCPPair(t)
	r, w, _, _ := rawIO(c)
	c.Close()
	_, err := w([]byte("x"))
	check("write after Close", "write", c.RemoteAddr().String(), err, net.ErrClosed, net.ErrClosed)
	_, err = r(make([]byte, 10))
	check("read after Close", "read", c.RemoteAddr().String(), err, net.ErrClosed, net.ErrClosed)

	c, s := testsupport.TCPPair(t)
	r, _, _, _ = rawIO(c)
	s.Write([]byte("hello"))
	buf := make([]byte, 10)
	if n, err := r(buf); err != nil || string(buf[:n]) != "hello" {
		t.Fatalf("read %q, %v", buf[:n], err)
	}
	c.SetReadDeadline(time.Now().Add(10 * time.Millisecond))
	_, err = r(buf)
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() || !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("read past the deadline: %v, want a timeout", err)
	}
	check("read past the deadline", "read", c.RemoteAddr().String(), err, os.ErrDeadlineExceeded, os.ErrDeadlineExceeded)
	c.SetReadDeadline(time.Time{})
	s.Close()
	if n, err := r(buf); n != 0 || err != io.EOF {
		t.Errorf("read after the peer closed: %d, %v; want io.EOF", n, err)
	}

	c, s = testsupport.TCPPair(t)
	_, w, _, _ = rawIO(c)
	s.SetLinger(0) // the peer resets the connection
	s.Close()
	err = nil
	for i := 0; err == nil && i < 1000; i++ { // the reset arrives within a few writes
		_, err = w(make([]byte, 1<<16))
	}
	check("write after a reset", "write", c.RemoteAddr().String(), err, syscall.ECONNRESET, syscall.EPIPE)

	c, s = testsupport.TCPPair(t)
	r, _, _, _ = rawIO(c)
	s.SetLinger(0) // the peer resets the connection
	s.Close()
	err = nil
	for i := 0; err == nil && i < 10; i++ {
		_, err = r(buf)
	}
	check("read after a reset", "read", c.RemoteAddr().String(), err, syscall.ECONNRESET, syscall.ECONNRESET)
}
