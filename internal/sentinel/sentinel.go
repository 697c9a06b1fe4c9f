package sentinel

import "fmt"

// tagged prints as err and matches both err's chain and sentinel.
type tagged struct {
	err      error
	sentinel error
}

func (t *tagged) Error() string   { return t.err.Error() }
func (t *tagged) Unwrap() []error { return []error{t.err, t.sentinel} }

// Tag returns err tagged with sentinel, or nil if err is nil.
func Tag(err, sentinel error) error {
	if err == nil {
		return nil
	}
	return &tagged{err: err, sentinel: sentinel}
}

// Errorf formats an error as fmt.Errorf does (%w included) and tags it
// with sentinel.
func Errorf(sentinel error, format string, a ...any) error {
	return Tag(fmt.Errorf(format, a...), sentinel)
}
