// Package capture reads the ESP32's serial stream: it opens the port (or the
// in-process simulator), tells COBS frames from Arduino text lines, decodes
// them with internal/frame, survives unplugs by reopening the device, and
// writes command lines back through one writer.
//
// Entry points: New builds a Capture from Options; (*Capture).Run owns the
// port until its context is cancelled and hands every packet and event to a
// Handler; (*Capture).Command queues a text line for the device;
// (*Capture).Stats is a snapshot of the counters. ListPorts enumerates the
// serial ports (used by `wsbridge ports` and by port auto-selection).
//
// Errors a user can act on wrap the sentinels of errors.go: ErrNotFound,
// ErrPermission, ErrBusy and ErrGone.
package capture
