package relay

import "errors"

// Sentinel errors. Errors returned by this package wrap one of them.
var (
	ErrOptions = errors.New("invalid relay options") // a bad flag value
	ErrListen  = errors.New("cannot listen")         // address in use, permission, bad address
	ErrTLS     = errors.New("cannot load TLS certificate")
)
