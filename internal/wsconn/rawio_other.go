//go:build !linux

package wsconn

import "net"

// rawIO returns how Conn reads from and writes to c: c.Read and c.Write,
// no writes that never wait and no raw reader for idle mode
// (internal/pollio is Linux-only).
func rawIO(c net.Conn) (read, write, try func([]byte) (int, error), idle rawReader) {
	return c.Read, c.Write, nil, nil
}
