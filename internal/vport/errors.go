package vport

import (
	"errors"
	"fmt"
)

// ErrNotSymlink is returned by Create when the link path exists and is not
// a symlink: vport never overwrites a regular file, directory or device.
var ErrNotSymlink = errors.New("exists and is not a symlink")

// ErrInUse is wrapped by the error Create returns when another program
// (another sink, a sim) holds the link path: the first one keeps it.
var ErrInUse = errors.New("in use by another program")

// InUseError names the link path and the process that holds it.
type InUseError struct {
	Path string
	Pid  int // 0 if unknown
}

func (e *InUseError) Error() string {
	who := "another program"
	if e.Pid > 0 {
		who = fmt.Sprintf("another program (pid %d)", e.Pid)
	}
	return fmt.Sprintf("%s is in use by %s: stop it first, or choose another path", e.Path, who)
}

func (e *InUseError) Unwrap() error { return ErrInUse }

// ErrUnsupported is returned by Create where virtual ports are not built:
// everywhere but Linux and macOS.
var ErrUnsupported = errors.New("virtual serial ports are supported on Linux and macOS only")

// unsupported is Create's error on goos, where there are no virtual ports:
// it says what to use instead (on Windows, a com0com pair).
func unsupported(goos string) error {
	hint := "use a real port (--port) instead"
	if goos == "windows" {
		hint = "install com0com (a pair of linked virtual COM ports, e.g. COM10 and COM11), pass one end with --port COM10 and open the other in R (see README, Troubleshooting)"
	}
	return fmt.Errorf("%w on %s: %s", ErrUnsupported, goos, hint)
}
