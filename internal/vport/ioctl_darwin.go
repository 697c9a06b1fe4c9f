package vport

import "golang.org/x/sys/unix"

// The termios and input-queue requests, which Linux and macOS name
// differently.
const (
	getTermios = unix.TIOCGETA
	setTermios = unix.TIOCSETA
	// inqRequest is FIONREAD, _IOR('f', 127, int) in <sys/filio.h>: bytes
	// in the slave's input queue. golang.org/x/sys/unix does not export it
	// for darwin.
	inqRequest = 0x4004667f
)
