package pollio

import (
	"io"
	"net"
	"os"
	"syscall"
	"testing"
)

// OpError reads as net.Conn's errors do, whatever pollio handed back.
func TestOpError(t *testing.T) {
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	c := tcpLike{a}
	closed := &net.OpError{Op: "read", Net: "tcp", Source: c.LocalAddr(), Addr: c.RemoteAddr(), Err: net.ErrClosed}
	for _, tc := range []struct {
		name string
		err  error
		want string
	}{
		{"errno", os.NewSyscallError("read", syscall.ECONNRESET), "write tcp 127.0.0.1:1->127.0.0.1:2: connection reset by peer"},
		{"bare errno", syscall.EPIPE, "write tcp 127.0.0.1:1->127.0.0.1:2: broken pipe"},
		{"the RawConn's own", closed, "write tcp 127.0.0.1:1->127.0.0.1:2: use of closed network connection"},
	} {
		if got := OpError(c, "write", tc.err); got == nil || got.Error() != tc.want {
			t.Errorf("%s: %v, want %q", tc.name, got, tc.want)
		}
	}
	if err := OpError(c, "read", io.EOF); err != io.EOF {
		t.Errorf("io.EOF became %v", err)
	}
	if err := OpError(c, "read", nil); err != nil {
		t.Errorf("nil became %v", err)
	}
	// Every write of a subscriber's connection passes its nil error here.
	var nc net.Conn = c
	if n := testing.AllocsPerRun(100, func() { OpError(nc, "write", nil); OpError(nc, "read", io.EOF) }); n != 0 {
		t.Errorf("OpError of nil and io.EOF allocated %v times, want 0", n)
	}
}

// tcpLike is a net.Conn with TCP addresses.
type tcpLike struct{ net.Conn }

func (tcpLike) LocalAddr() net.Addr  { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 1} }
func (tcpLike) RemoteAddr() net.Addr { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 2} }
