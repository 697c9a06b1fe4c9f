//go:build !linux && !darwin

package sink

import "go.bug.st/serial"

// openReal opens a real serial port with go.bug.st/serial. Here a write
// the port does not take cannot be cut short: the final flush closes the
// port instead.
func openReal(path string, mode *serial.Mode) (outPort, error) {
	return serial.Open(path, mode)
}
