package source

import "errors"

// ErrDown is wrapped by Command when the device is not connected.
var ErrDown = errors.New("device is down")
