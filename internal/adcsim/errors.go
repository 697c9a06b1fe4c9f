package adcsim

import "errors"

// ErrUnplugged is returned by Device.Run when the simulated unplug
// (Config.UnplugEvery) is due: the owner of the port closes it, waits
// Config.UnplugPause and calls Run again with a new port. Serve does this.
var ErrUnplugged = errors.New("simulated unplug")

// ErrConfig is wrapped by errors about the configuration (a usage error)
// rather than the port or the system.
var ErrConfig = errors.New("invalid simulator configuration")
