package vport

import "golang.org/x/sys/unix"

// The termios and input-queue requests, which Linux and macOS name
// differently (golang.org/x/sys/unix has both).
const (
	getTermios = unix.TCGETS
	setTermios = unix.TCSETS
	inqRequest = unix.TIOCINQ // bytes in the slave's input queue
)
