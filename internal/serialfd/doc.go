// Package serialfd opens a serial port twice: a non-blocking descriptor
// that the Go runtime's poller watches, for reads and writes that a
// deadline or Close can cut short, and go.bug.st/serial's own descriptor,
// which applies the mode and holds the exclusive-access lock. capture
// (serve's device reader) and sink (--port) read and write through it.
//
// Entry points: Open returns a Port; its File is the polled descriptor
// and its Close closes both.
//
// The package is for Linux and macOS; elsewhere callers use
// go.bug.st/serial alone.
package serialfd
