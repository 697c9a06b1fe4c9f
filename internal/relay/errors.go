package relay

import (
	"errors"
	"fmt"
)

// Sentinel errors. Errors returned by this package wrap one of them.
var (
	ErrOptions = errors.New("invalid relay options") // a bad flag value
	ErrListen  = errors.New("cannot listen")         // address in use, permission, bad address
	ErrTLS     = errors.New("cannot load TLS certificate")
)

// tagged is an error that matches a sentinel with errors.Is but prints as
// its own message only.
type tagged struct {
	err      error
	sentinel error
}

func (t *tagged) Error() string   { return t.err.Error() }
func (t *tagged) Unwrap() []error { return []error{t.err, t.sentinel} }

// optionsErr is a bad-flag error matching ErrOptions.
func optionsErr(format string, a ...any) error {
	return &tagged{fmt.Errorf(format, a...), ErrOptions}
}
