package capture

import (
	"context"
	"errors"
	"path/filepath"

	"go.bug.st/serial"
)

// open opens the device the options name: the port with the Match
// identity, the Port path, or the one ESP32 board present.
func (c *Capture) open(ctx context.Context) (*conn, error) {
	path, id, err := c.resolve()
	if err != nil {
		return nil, err
	}
	return c.openSerial(path, id)
}

// resolve finds the path to open and its USB identity ("" if unknown).
func (c *Capture) resolve() (path, id string, err error) {
	switch {
	case c.match != nil:
		ports, err := c.list()
		if err != nil {
			return "", "", err
		}
		p, err := c.match.find(ports)
		return p.Path, p.ID(), err
	case c.opts.Port != "":
		return c.opts.Port, c.identify(c.opts.Port), nil
	}
	return c.pick()
}

// identify returns the USB identity of path, following symlinks such as
// /dev/serial/by-id/..., or "" when it is not a known USB port.
func (c *Capture) identify(path string) string {
	target, err := filepath.EvalSymlinks(path)
	if err != nil {
		return ""
	}
	ports, err := c.list()
	if err != nil {
		return ""
	}
	for _, p := range ports {
		if p.Path == target || p.Path == path {
			return p.ID()
		}
	}
	return ""
}

// pick chooses the one ESP32 board present and remembers its identity, so
// that a reopen finds it again even under a new path.
func (c *Capture) pick() (path, id string, err error) {
	ports, err := c.list()
	if err != nil {
		return "", "", err
	}
	p, err := pickESP32(ports)
	if err != nil {
		return "", "", err
	}
	c.match = &Match{VID: p.VID, PID: p.PID, Serial: p.Serial}
	c.log.Info().Str("port", p.Path).Str("chip", p.Chip).Str("usb_id", p.ID()).
		Str("serial", p.Serial).Msgf("no --port given: using %s", p.Summary())
	return p.Path, p.ID(), nil
}

// openSerial opens path with the options' line settings.
func (c *Capture) openSerial(path, id string) (*conn, error) {
	rwc, err := openDevice(path, c.opts.mode(id), c.serialOpen)
	if err != nil {
		return nil, classify(path, err, c.listQuiet(), c.opts.Setting, c.opts.Without)
	}
	return newConn(rwc, path), nil
}

// serialOpen opens path with go.bug.st/serial, retrying without setting
// the modem lines where the port has none.
func (c *Capture) serialOpen(path string, mode *serial.Mode) (serial.Port, error) {
	p, err := serial.Open(path, mode)
	if err != nil && mode.InitialStatusBits != nil && isInvalidPort(err) {
		p, err = c.openNoModemLines(path, mode, err)
	}
	return p, err
}

// openNoModemLines retries an open that failed while setting DTR/RTS: a pty
// (a virtual port) has no modem lines. It keeps the port only if it indeed
// has none; otherwise it reports the first error.
func (c *Capture) openNoModemLines(path string, mode *serial.Mode, first error) (serial.Port, error) {
	m := *mode
	m.InitialStatusBits = nil
	p, err := serial.Open(path, &m)
	if err != nil {
		return nil, err // it got past the modem lines: the more telling error
	}
	if _, err := p.GetModemStatusBits(); err == nil {
		p.Close()
		return nil, first
	}
	c.log.Debug().Str("port", path).Msg("port has no modem lines (a virtual port?): DTR/RTS not set")
	return p, nil
}

func isInvalidPort(err error) bool {
	var pe *serial.PortError
	return errors.As(err, &pe) && pe.Code() == serial.InvalidSerialPort
}

// listQuiet lists the ports for an error message, ignoring failures.
func (c *Capture) listQuiet() []PortInfo {
	ports, _ := c.list()
	return ports
}

// Probe opens the device as Run would and closes it again, returning the
// same errors Run returns at start: what `serve --check` uses to tell
// whether the port exists, is free and can be opened. It opens the port
// with the configured modem lines, as serve would.
func (c *Capture) Probe(ctx context.Context) (port string, err error) {
	cn, err := c.open(ctx)
	if err != nil {
		return "", err
	}
	defer cn.close()
	return cn.name, nil
}
