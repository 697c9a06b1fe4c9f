//go:build !linux

package capture

import (
	"io"

	"go.bug.st/serial"
)

// openDevice opens path with go.bug.st/serial, which reads it directly
// (the polled reader of polled_linux.go is Linux-only).
func openDevice(path string, mode *serial.Mode, open func(string, *serial.Mode) (serial.Port, error)) (io.ReadWriteCloser, error) {
	return open(path, mode)
}
