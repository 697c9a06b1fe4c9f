package pollio

import (
	"errors"
	"io"
	"net"
	"os"
)

// OpError names op ("read", "write") and the connection c in an error of
// an FD over c, as net.Conn's own errors do: "read tcp A->B: connection
// reset by peer". The RawConn's own errors (closed, deadline) name the
// connection already and only get op; nil and io.EOF pass unchanged, and
// cost no allocation (every write of a subscriber's connection comes
// through here).
func OpError(c net.Conn, op string, err error) error {
	if err == nil || err == io.EOF {
		return err
	}
	return opError(c, op, err)
}

// opError is OpError for an error to name: its variables escape (errors.As
// takes their address), so they live apart from OpError's fast path.
func opError(c net.Conn, op string, err error) error {
	var oe *net.OpError
	if errors.As(err, &oe) {
		oe.Op = op
		return err
	}
	var se *os.SyscallError
	if errors.As(err, &se) { // the errno alone: the op is named once
		err = se.Err
	}
	return &net.OpError{Op: op, Net: c.LocalAddr().Network(), Source: c.LocalAddr(), Addr: c.RemoteAddr(), Err: err}
}
