//go:build !linux && !darwin

package vport

import (
	"runtime"
	"time"
)

// Port is a virtual serial port. On this platform Create always fails.
type Port struct{}

// Create fails on this platform with ErrUnsupported and a suggestion; the
// caller names the port, as it does for the Linux errors.
func Create(string) (*Port, error) { return nil, unsupported(runtime.GOOS) }

// Name is the device path of the port.
func (p *Port) Name() string { return "" }

// Link is the symlink path, if any.
func (p *Port) Link() string { return "" }

// Read fails on this platform.
func (p *Port) Read([]byte) (int, error) { return 0, ErrUnsupported }

// Write fails on this platform.
func (p *Port) Write([]byte) (int, error) { return 0, ErrUnsupported }

// SetDeadline fails on this platform.
func (p *Port) SetDeadline(time.Time) error { return ErrUnsupported }

// SetReadDeadline fails on this platform.
func (p *Port) SetReadDeadline(time.Time) error { return ErrUnsupported }

// SetWriteDeadline fails on this platform.
func (p *Port) SetWriteDeadline(time.Time) error { return ErrUnsupported }

// Buffered fails on this platform.
func (p *Port) Buffered() (int, error) { return 0, ErrUnsupported }

// Close does nothing.
func (p *Port) Close() error { return nil }
