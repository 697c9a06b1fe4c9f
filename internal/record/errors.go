package record

import "errors"

// Sentinel errors: the CLI maps them to exit codes.
var (
	// ErrOptions wraps every invalid option (exit code 2).
	ErrOptions = errors.New("invalid record options")
	// ErrOutput wraps failures to create or write the recordings (exit code 1).
	ErrOutput = errors.New("recording failed")
)
