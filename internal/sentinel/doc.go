// Package sentinel tags an error with a sentinel error, a class such as
// "invalid options" or "cannot listen" that callers test with errors.Is,
// without changing the error's message: the tagged error prints as the
// error alone and unwraps to both it and the sentinel.
//
// Entry points: Tag and Errorf.
//
//	var ErrOptions = errors.New("invalid options")
//	return sentinel.Errorf(ErrOptions, "--history must be positive, got %v", d)
//	...
//	errors.Is(err, ErrOptions) // true; err.Error() is the message above
package sentinel
