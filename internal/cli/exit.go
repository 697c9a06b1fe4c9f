package cli

import (
	"errors"
	"fmt"
	"io"

	"github.com/wsbridge/wsbridge/internal/sentinel"
)

// Exit codes, documented in README.md ("Exit codes").
const (
	ExitOK      = 0 // success, including a clean shutdown on SIGINT/SIGTERM
	ExitFailure = 1 // a runtime failure
	ExitUsage   = 2 // bad flags, arguments or configuration
	ExitDevice  = 3 // the serial device cannot be used: not found, permission denied, busy
	ExitNetwork = 4 // the network endpoint cannot be used: address in use, connection refused
)

// Sentinel classes that commands tag errors with (sentinel.Tag, Usagef) so
// that ExitCode can tell them apart without importing every package.
var (
	ErrUsage   = errors.New("usage error")
	ErrDevice  = errors.New("device error")
	ErrNetwork = errors.New("network error")
)

// Usagef returns a usage error, exit code 2.
func Usagef(format string, a ...any) error {
	return sentinel.Errorf(ErrUsage, format, a...)
}

// ExitCode maps err to the process exit code and prints it to w.
func ExitCode(err error, w io.Writer) int {
	if err == nil {
		return ExitOK
	}
	fmt.Fprintf(w, "wsbridge: %v\n", err)
	switch {
	case errors.Is(err, ErrUsage):
		return ExitUsage
	case errors.Is(err, ErrDevice):
		return ExitDevice
	case errors.Is(err, ErrNetwork):
		return ExitNetwork
	}
	return ExitFailure
}
