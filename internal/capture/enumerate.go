//go:build !darwin || cgo

package capture

import (
	"strings"

	"go.bug.st/serial/enumerator"
)

// usbPorts lists the ports with their USB details.
func usbPorts() ([]PortInfo, error) {
	details, err := enumerator.GetDetailedPortsList()
	if err != nil {
		return nil, err
	}
	out := make([]PortInfo, 0, len(details))
	for _, d := range details {
		if d.Name == "" {
			continue // the enumerator leaves ports without sysfs details unnamed
		}
		out = append(out, portInfo(d))
	}
	return out, nil
}

func portInfo(d *enumerator.PortDetails) PortInfo {
	p := PortInfo{Path: d.Name, USB: d.IsUSB, Serial: d.SerialNumber,
		Manufacturer: d.Manufacturer, Product: d.Product,
		VID: strings.ToLower(d.VID), PID: strings.ToLower(d.PID)}
	if p.USB {
		p.Chip, p.ESP32 = chipOf(p.VID, p.PID)
	}
	return p
}
