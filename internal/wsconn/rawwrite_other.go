//go:build !linux

package wsconn

import "net"

// rawWriter returns how Conn writes to c: c.Write (internal/pollio is
// Linux-only).
func rawWriter(c net.Conn) func([]byte) (int, error) { return c.Write }
