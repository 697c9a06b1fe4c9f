package pollio

import "net"

// Conn is a TCP connection whose Read and Write are an FD's raw system
// calls (no entersyscall, so no wake-up of the runtime's monitor thread),
// with errors named as net.Conn's (OpError); the rest is the TCPConn's:
// deadlines and Close work as usual. One reader and one writer at a time,
// as FD.
type Conn struct {
	*net.TCPConn
	fd *FD
}

// NewConn wraps tc, or returns an error when its descriptor cannot be had.
func NewConn(tc *net.TCPConn) (*Conn, error) {
	rc, err := tc.SyscallConn()
	if err != nil {
		return nil, err
	}
	return &Conn{TCPConn: tc, fd: New(rc)}, nil
}

// Read reads through the FD.
func (c *Conn) Read(p []byte) (int, error) {
	n, err := c.fd.Read(p)
	return n, OpError(c, "read", err)
}

// Write writes through the FD.
func (c *Conn) Write(p []byte) (int, error) {
	n, err := c.fd.Write(p)
	return n, OpError(c, "write", err)
}
