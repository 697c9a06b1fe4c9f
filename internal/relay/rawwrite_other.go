//go:build !linux

package relay

import "net"

// rawWriter returns how corkConn writes to c: c.Write (internal/pollio is
// Linux-only).
func rawWriter(c net.Conn) func([]byte) (int, error) { return c.Write }
