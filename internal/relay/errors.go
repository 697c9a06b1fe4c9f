package relay

import (
	"errors"

	"github.com/wsbridge/wsbridge/internal/sentinel"
)

// Sentinel errors. Errors returned by this package wrap one of them.
var (
	ErrOptions = errors.New("invalid relay options") // a bad flag value
	ErrListen  = errors.New("cannot listen")         // address in use, permission, bad address
	ErrTLS     = errors.New("cannot load TLS certificate")
	// ErrNoDevice: a command for a channel without a device to take it.
	ErrNoDevice = errors.New("no device to send commands to")
)

// optionsErr is a bad-flag error matching ErrOptions.
func optionsErr(format string, a ...any) error {
	return sentinel.Errorf(ErrOptions, format, a...)
}
