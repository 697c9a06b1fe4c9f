package bus

import (
	"net"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/wsbridge/wsbridge/internal/pollio"
)

// rawDialer connects to the bus over TCP connections (pollio.Conn) whose reads and
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
	if pc, err := pollio.NewConn(tc); err == nil {
		return pc, nil
	}
	return c, nil
}
