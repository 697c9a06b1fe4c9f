package sink

import "errors"

// Sentinel errors. Run wraps them; use errors.Is.
var (
	// ErrOptions means the options are inconsistent or out of range.
	ErrOptions = errors.New("invalid sink options")
	// ErrOutput means the output port could not be opened.
	ErrOutput = errors.New("cannot open output port")
	// ErrServer means the server refused the sink for good (a bad token,
	// an untrusted certificate, a wrong path, not a wsbridge server); it
	// also wraps wsclient.ErrWillNotHeal and the wsclient kind.
	ErrServer = errors.New("server cannot be used")
)
