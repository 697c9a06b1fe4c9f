package wsconn

import (
	"net"
	"syscall"

	"github.com/wsbridge/wsbridge/internal/pollio"
)

// rawWriter returns how Conn writes to c: through internal/pollio's raw
// system calls for a TCP connection, which spares the runtime's monitor
// thread a wake-up per write; c.Write for anything else. Its errors read
// as c.Write's: "write tcp A->B: ...".
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
		switch e := err.(type) {
		case nil:
		case *net.OpError: // the RawConn's own (closed, deadline): it names the connection already
			e.Op = "write"
		default: // the system call's errno
			err = &net.OpError{Op: "write", Net: c.LocalAddr().Network(), Source: c.LocalAddr(), Addr: c.RemoteAddr(), Err: err}
		}
		return n, err
	}
}
