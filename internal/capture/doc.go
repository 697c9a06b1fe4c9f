// Package capture reads an ESP32's serial stream: it is the serial port's
// source.Source. It opens the port (by path, by USB identity, or the one
// ESP32 present), tells COBS frames from Arduino text lines, decodes them
// with internal/frame, survives unplugs by reopening the device, and
// writes command lines back through one writer. It hands every valid
// packet on as read: sequence numbers are the channel's to classify.
//
// Entry points: New builds a Capture from Options; (*Capture).Run owns the
// port until its context is cancelled and hands every packet to a
// source.Publisher (Up when the port opens, Down when it is lost);
// (*Capture).Command queues a text line for the device; Counters and
// Stats are the counters. BindFlags binds the serial settings to flags
// (serve's --port, --baud, ... and the keys of its devices). ListPorts
// enumerates the serial ports (used by `wsbridge ports` and by port
// auto-selection).
//
// Errors a user can act on wrap the sentinels of errors.go: ErrNotFound,
// ErrPermission, ErrBusy and ErrGone (which wraps source.ErrDown).
package capture
