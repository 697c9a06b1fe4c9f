package bus

import (
	"errors"
	"fmt"
)

// Sentinel errors, wrapped with details.
var (
	// ErrNoJetStream: the server (or the account) has JetStream disabled.
	ErrNoJetStream = errors.New("JetStream is not enabled on the NATS server for this account")
	// ErrPermission: the credentials may not use a subject or API the bus needs.
	ErrPermission = errors.New("permission denied by the NATS server")
	// ErrConflict: a stream exists with settings or an owner that differ from ours.
	ErrConflict = errors.New("conflicting stream on the bus")
	// ErrBadName: a channel name the bus cannot carry.
	ErrBadName = errors.New("invalid channel name")
	// ErrNotFound: no stream for the channel on the bus.
	ErrNotFound = errors.New("channel not on the bus")
	// ErrBadMessage: a message on a channel subject that wsbridge did not publish.
	ErrBadMessage = errors.New("not a wsbridge bus message")
	// ErrTwoPublishers: another publisher writes the same channel's stream.
	ErrTwoPublishers = errors.New("another publisher writes this channel")
	// ErrInvalid is wrapped by every configuration error (FieldError).
	ErrInvalid = errors.New("invalid bus configuration")
)

// FieldError is a configuration error at a field path below "bus."
// (e.g. bus.stream.replicas).
type FieldError struct {
	Path string
	Msg  string
}

func (e *FieldError) Error() string { return "bus." + e.Path + ": " + e.Msg }

// Unwrap makes every FieldError an ErrInvalid.
func (e *FieldError) Unwrap() error { return ErrInvalid }

func fieldErr(path, format string, args ...any) error {
	return &FieldError{Path: path, Msg: fmt.Sprintf(format, args...)}
}

// permanent reports whether err cannot heal by retrying: bad settings,
// no JetStream, no permission, a conflicting stream.
func permanent(err error) bool {
	return errors.Is(err, ErrNoJetStream) || errors.Is(err, ErrPermission) ||
		errors.Is(err, ErrConflict) || errors.Is(err, ErrInvalid) || errors.Is(err, ErrBadName) ||
		errors.Is(err, ErrTooOld)
}
