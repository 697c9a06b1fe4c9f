//go:build darwin && !cgo

package capture

import "errors"

// usbPorts: on macOS, USB details come from IOKit, which needs cgo; a
// cross-compiled (CGO_ENABLED=0) build lists port names only.
func usbPorts() ([]PortInfo, error) {
	return nil, errors.New("USB details need a cgo build on macOS")
}
