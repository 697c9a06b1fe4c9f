//go:build !linux

package wsconn

import "net"

// rawRead returns nil: idle mode needs raw reads (Linux).
func rawRead(net.Conn) rawReader { return nil }
