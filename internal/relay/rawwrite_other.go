//go:build !linux

package relay

import "net"

// rawWriter returns how corkConn writes to c: c.Write (internal/pollio is
// Linux-only).
func rawWriter(net.Conn) func(net.Conn, []byte) (int, error) { return net.Conn.Write }
