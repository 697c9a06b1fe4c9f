package capture

import (
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"syscall"

	"go.bug.st/serial"

	"github.com/wsbridge/wsbridge/internal/source"
)

// Sentinels wrapped by the errors of this package; test with errors.Is.
var (
	ErrNotFound   = errors.New("serial device not found")
	ErrPermission = errors.New("permission denied")
	ErrBusy       = errors.New("serial device busy")
	ErrGone       = fmt.Errorf("device is not connected: %w", source.ErrDown) // unplugged (capture waits for it) or not open yet
	ErrQueueFull  = errors.New("command queue full")
)

// openError is an open failure with an actionable message that still
// matches its sentinel and its cause with errors.Is.
type openError struct {
	msg   string
	kind  error // one of the sentinels, or nil
	cause error
}

func (e *openError) Error() string { return e.msg }
func (e *openError) Unwrap() []error {
	var errs []error
	for _, err := range []error{e.kind, e.cause} {
		if err != nil {
			errs = append(errs, err)
		}
	}
	return errs
}

// kindOf maps an error from serial.Open to a sentinel. go.bug.st/serial
// reports busy and permission as *PortError (whose zero code means busy and
// which has no Unwrap), and a missing device on Unix as a raw errno.
func kindOf(err error) error {
	var pe *serial.PortError
	if errors.As(err, &pe) {
		switch pe.Code() {
		case serial.PortBusy:
			return ErrBusy
		case serial.PermissionDenied:
			return ErrPermission
		case serial.PortNotFound:
			return ErrNotFound
		}
		return nil
	}
	switch {
	case errors.Is(err, fs.ErrNotExist), errors.Is(err, syscall.ENODEV), errors.Is(err, syscall.ENXIO):
		return ErrNotFound
	case errors.Is(err, fs.ErrPermission):
		return ErrPermission
	case errors.Is(err, syscall.EBUSY):
		return ErrBusy
	}
	return nil
}

// classify turns an error from opening path into a message a user can act
// on. present describes the serial ports that exist, for not-found errors.
func classify(path string, err error, present []PortInfo, setting, without string) error {
	kind := kindOf(err)
	var msg string
	switch kind {
	case ErrPermission:
		msg = fmt.Sprintf("permission denied opening %s: add your user to the dialout group "+
			"(sudo usermod -aG dialout $USER, then log in again)", path)
	case ErrBusy:
		msg = fmt.Sprintf("%s is busy: another program holds it (ModemManager, a serial monitor, "+
			"another wsbridge); close it or stop ModemManager", path)
		if who := lockHolder(err); who != "" {
			msg = fmt.Sprintf("%s is busy: %s holds it (another wsbridge serve?); stop it first", path, who)
		}
	case ErrNotFound:
		msg = notFound(path, present, setting, without)
	case nil:
		if isInvalidPort(err) { // e.g. a regular file or /dev/null: not a tty
			msg = fmt.Sprintf("failed to open %s: %v; is it a serial port? %s", path, err, describePresent(present))
			break
		}
		fallthrough
	default:
		msg = fmt.Sprintf("failed to open %s: %v", path, err)
	}
	return &openError{msg: msg, kind: kind, cause: err}
}

// notFound says that the port given is not there, and what to do: pick
// one that is, or plug the board in, or run without one.
func notFound(path string, present []PortInfo, setting, without string) string {
	if len(present) == 0 {
		return fmt.Sprintf("%s not found; no serial ports present: plug the board in with a data (not charge-only) USB cable, or %s to run without one", path, without)
	}
	return fmt.Sprintf("%s not found; %s; pass one of those to %s (wsbridge ports marks the ESP32), or %s to run without a board",
		path, describePresent(present), setting, without)
}

// describePresent lists the ports for an error message.
func describePresent(ports []PortInfo) string {
	if len(ports) == 0 {
		return "no serial ports present"
	}
	s := make([]string, len(ports))
	for i, p := range ports {
		s[i] = p.Summary()
	}
	return "present: " + strings.Join(s, ", ")
}
