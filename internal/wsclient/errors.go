package wsclient

import (
	"errors"
	"fmt"
)

// ErrWillNotHeal is wrapped by every error that retrying cannot fix: Run
// returns it (unless Options.RetryForever). Test with Permanent or
// errors.Is.
var ErrWillNotHeal = errors.New("will not heal by retrying")

// The kinds of errors that will not heal. Each is wrapped together with
// ErrWillNotHeal.
var (
	// ErrUnauthorized: the server refused the token (HTTP 401 or 403).
	ErrUnauthorized = errors.New("unauthorized")
	// ErrNotFound: nothing at that path (HTTP 404).
	ErrNotFound = errors.New("no WebSocket endpoint at that path")
	// ErrUntrusted: the server's TLS certificate is not trusted, or TLS
	// does not fit the server (wss:// to a plain server and back).
	ErrUntrusted = errors.New("TLS failed")
	// ErrNotWsbridge: the server is not a wsbridge stream (it answered
	// without upgrading, or its first message is not a hello).
	ErrNotWsbridge = errors.New("not a wsbridge server")
	// ErrRefused: any other 4xx answer to the handshake.
	ErrRefused = errors.New("refused by the server")
)

// Permanent reports whether err will not heal by retrying.
func Permanent(err error) bool { return errors.Is(err, ErrWillNotHeal) }

// Error is a failed connection attempt, said once and clearly: Msg is what
// is wrong and what to do about it, without the URL's token and without
// the server's HTML. Kind is nil for errors that heal (retry them).
type Error struct {
	Kind error  // ErrUnauthorized, ErrNotFound, ...; nil: try again later
	Msg  string // one line for the user
	Err  error  // the underlying error, for errors.Is/As
}

func (e *Error) Error() string { return e.Msg }

// Unwrap lets errors.Is find Kind, ErrWillNotHeal (for a Kind) and Err.
func (e *Error) Unwrap() []error {
	if e.Kind == nil {
		return []error{e.Err}
	}
	return []error{e.Kind, ErrWillNotHeal, e.Err}
}

func permanent(kind, err error, format string, a ...any) *Error {
	return &Error{Kind: kind, Msg: fmt.Sprintf(format, a...), Err: err}
}

func temporary(err error, format string, a ...any) *Error {
	return &Error{Msg: fmt.Sprintf(format, a...), Err: err}
}
