package relay

import (
	"net"
	"syscall"

	"github.com/wsbridge/wsbridge/internal/pollio"
)

// rawWriter returns how corkConn writes to c: through internal/pollio's raw
// system calls for a TCP connection, which spares the runtime's monitor
// thread a wake-up per write; c.Write for anything else.
func rawWriter(c net.Conn) func([]byte) (int, error) {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return c.Write
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return c.Write
	}
	fd := pollio.New(rc)
	return func(p []byte) (int, error) {
		n, err := fd.Write(p)
		if err != nil {
			err = &net.OpError{Op: "write", Net: "tcp", Source: c.LocalAddr(), Addr: c.RemoteAddr(), Err: err}
		}
		return n, err
	}
}
