package cli

import (
	"errors"
	"fmt"
	"io"
)

// Exit codes, documented in README.md ("Exit codes").
const (
	ExitOK      = 0 // success, including a clean shutdown on SIGINT/SIGTERM
	ExitFailure = 1 // a runtime failure
	ExitUsage   = 2 // bad flags, arguments or configuration
	ExitDevice  = 3 // the serial device cannot be used: not found, permission denied, busy
	ExitNetwork = 4 // the network endpoint cannot be used: address in use, connection refused
)

// Sentinel classes that core packages wrap (via the helpers below) so that
// ExitCode can tell them apart without importing every package.
var (
	ErrUsage   = errors.New("usage error")
	ErrDevice  = errors.New("device error")
	ErrNetwork = errors.New("network error")
)

// classified is an error tagged with an exit class but printed as itself.
type classified struct {
	err   error
	class error
}

func (c *classified) Error() string   { return c.err.Error() }
func (c *classified) Unwrap() []error { return []error{c.err, c.class} }

// Classify tags err with class (ErrUsage, ErrDevice, ErrNetwork) for ExitCode.
func Classify(err, class error) error {
	if err == nil {
		return nil
	}
	return &classified{err: err, class: class}
}

// Usagef returns a usage error, exit code 2.
func Usagef(format string, a ...any) error {
	return Classify(fmt.Errorf(format, a...), ErrUsage)
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
