package capture

import (
	"fmt"
	"sort"
	"strings"

	"go.bug.st/serial"
)

// PortInfo describes one serial port, as `wsbridge ports` prints it.
type PortInfo struct {
	Path         string `json:"path"`
	USB          bool   `json:"usb"`
	VID          string `json:"vid,omitempty"` // lower-case hex, e.g. "10c4"
	PID          string `json:"pid,omitempty"`
	Serial       string `json:"serial,omitempty"`
	Manufacturer string `json:"manufacturer,omitempty"`
	Product      string `json:"product,omitempty"`
	Chip         string `json:"chip,omitempty"` // USB-serial bridge, e.g. "CP210x", when known
	ESP32        bool   `json:"likely_esp32"`   // a bridge found on ESP32 boards
}

// ID is "vid:pid", or "" for a port that is not USB.
func (p PortInfo) ID() string {
	if !p.USB {
		return ""
	}
	return p.VID + ":" + p.PID
}

// Summary is a one-line description for messages:
// "/dev/ttyUSB0 (CP210x 10c4:ea60, Silicon Labs CP2102 ..., serial 0001)".
func (p PortInfo) Summary() string {
	if !p.USB {
		return p.Path
	}
	parts := []string{strings.TrimSpace(p.Chip + " " + p.ID())}
	if s := strings.TrimSpace(p.Manufacturer + " " + p.Product); s != "" {
		parts = append(parts, s)
	}
	if p.Serial != "" {
		parts = append(parts, "serial "+p.Serial)
	}
	return fmt.Sprintf("%s (%s)", p.Path, strings.Join(parts, ", "))
}

// bridges are the USB IDs of the USB-serial chips found on ESP32 boards.
var bridges = map[string]string{
	"10c4:ea60": "CP210x",
	"1a86:7523": "CH340",
	"1a86:55d4": "CH9102",
	"0403:6001": "FTDI FT232R",
	"0403:6015": "FTDI FT-X",
	"303a:1001": "ESP32 native USB (USB-Serial-JTAG)",
}

// chipOf names the bridge for a USB ID, and whether it is an ESP32 one.
func chipOf(vid, pid string) (string, bool) {
	if c, ok := bridges[vid+":"+pid]; ok {
		return c, true
	}
	if vid == espressifVID {
		return "ESP32 native USB", true
	}
	return "", false
}

const espressifVID = "303a"

// ListPorts returns the serial ports present, sorted by path, with their
// USB identity where the system reports it.
func ListPorts() ([]PortInfo, error) {
	out, err := usbPorts()
	if err != nil {
		if out, err = listPlain(err); err != nil {
			return nil, err
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out, nil
}

// listPlain falls back to port names alone where USB details are not
// available on this system.
func listPlain(detailErr error) ([]PortInfo, error) {
	names, err := serial.GetPortsList()
	if err != nil {
		return nil, fmt.Errorf("failed to list serial ports: %w (%v)", err, detailErr)
	}
	out := make([]PortInfo, len(names))
	for i, n := range names {
		out[i] = PortInfo{Path: n}
	}
	return out, nil
}

// Match is a USB identity: VID:PID with an optional serial number.
type Match struct {
	VID, PID, Serial string
}

// ParseMatch parses "VID:PID[:SERIAL]", e.g. "10c4:ea60" or "303a:1001:F4:12:FA".
func ParseMatch(s string) (Match, error) {
	parts := strings.SplitN(s, ":", 3)
	if len(parts) < 2 || !isHex4(parts[0]) || !isHex4(parts[1]) {
		return Match{}, fmt.Errorf("invalid match %q: want VID:PID[:SERIAL] in hex, e.g. 10c4:ea60", s)
	}
	m := Match{VID: strings.ToLower(parts[0]), PID: strings.ToLower(parts[1])}
	if len(parts) == 3 {
		m.Serial = parts[2]
	}
	return m, nil
}

func isHex4(s string) bool {
	if len(s) != 4 {
		return false
	}
	for _, c := range strings.ToLower(s) {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

func (m Match) String() string {
	if m.Serial == "" {
		return m.VID + ":" + m.PID
	}
	return m.VID + ":" + m.PID + ":" + m.Serial
}

// Matches reports whether p has this identity.
func (m Match) Matches(p PortInfo) bool {
	return p.USB && p.VID == m.VID && p.PID == m.PID && (m.Serial == "" || p.Serial == m.Serial)
}

// find returns the one port with identity m.
func (m Match) find(ports []PortInfo) (PortInfo, error) {
	return onlyOne(ports, m.Matches,
		fmt.Sprintf("no serial port matches %s; %s; use --port or --sim", m, describePresent(ports)),
		func(hits []PortInfo) string {
			return fmt.Sprintf("%d serial ports match %s: %s; add the serial number (VID:PID:SERIAL) or use --port",
				len(hits), m, describePresent(hits))
		})
}

// pickESP32 returns the one port that looks like an ESP32 board.
func pickESP32(ports []PortInfo) (PortInfo, error) {
	return onlyOne(ports, func(p PortInfo) bool { return p.ESP32 },
		fmt.Sprintf("no ESP32 board found (%s); plug it in, or use --port PATH or --sim", describePresent(ports)),
		func(hits []PortInfo) string {
			return fmt.Sprintf("%d ESP32-like boards found (%s); choose one with --port PATH or --match VID:PID[:SERIAL]",
				len(hits), describePresent(hits))
		})
}

// onlyOne returns the one port that ok accepts. With none it fails with
// ErrNotFound and the message none; with several, with many(hits).
func onlyOne(ports []PortInfo, ok func(PortInfo) bool, none string, many func([]PortInfo) string) (PortInfo, error) {
	var hits []PortInfo
	for _, p := range ports {
		if ok(p) {
			hits = append(hits, p)
		}
	}
	switch len(hits) {
	case 1:
		return hits[0], nil
	case 0:
		return PortInfo{}, &openError{kind: ErrNotFound, msg: none}
	}
	return PortInfo{}, &openError{msg: many(hits)}
}
