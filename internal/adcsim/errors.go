package adcsim

import "errors"

// ErrUnplugged is returned by Device.Run when the simulated unplug
// (Config.UnplugEvery) is due: the owner of the port closes it, waits
// Config.UnplugPause and calls Run again with a new port. Serve does this.
var ErrUnplugged = errors.New("simulated unplug")

// configError marks errors in a Config, for IsConfigError.
type configError struct{ error }

func (e configError) Unwrap() error { return e.error }

// IsConfigError reports whether err is about the configuration (a usage
// error) rather than the port or the system.
func IsConfigError(err error) bool {
	var c configError
	return errors.As(err, &c)
}
