package bus

import (
	"net"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/wsbridge/wsbridge/internal/pollio"
)

// rawDialer connects to the bus over TCP connections whose reads and
// writes are internal/pollio's raw system calls. nats.go's ordinary ones
// (syscall.Read, syscall.Write) pass through the scheduler's
// entersyscall, which wakes the runtime's monitor thread (sysmon) when
// the process was idle; at 1000 frames/s a serve on the bus is idle
// between frames, and each frame's first read or write woke sysmon,
// which then polled every 20 µs while the frame went through: about 6
// thread sleeps per frame (a third of the serves' CPU in BusCPU). The
// sockets are non-blocking, so the raw calls never block; the poller
// parks the goroutine as before, deadlines and Close work as usual.
type rawDialer struct {
	d net.Dialer
}

func newRawDialer(timeout time.Duration) nats.CustomDialer {
	return &rawDialer{d: net.Dialer{Timeout: timeout}}
}

func (r *rawDialer) Dial(network, address string) (net.Conn, error) {
	c, err := r.d.Dial(network, address)
	if err != nil {
		return nil, err
	}
	tc, ok := c.(*net.TCPConn)
	if !ok {
		return c, nil
	}
	rc, err := tc.SyscallConn()
	if err != nil {
		return c, nil
	}
	return &rawConn{TCPConn: tc, fd: pollio.New(rc)}, nil
}

// rawConn is a TCP connection that reads and writes through pollio. One
// goroutine reads (nats.go's readLoop) while one writes (under the
// connection's lock); the rest is the TCPConn's.
type rawConn struct {
	*net.TCPConn
	fd *pollio.FD
}

func (c *rawConn) Read(p []byte) (int, error) {
	n, err := c.fd.Read(p)
	return n, pollio.OpError(c, "read", err)
}

func (c *rawConn) Write(p []byte) (int, error) {
	n, err := c.fd.Write(p)
	return n, pollio.OpError(c, "write", err)
}
