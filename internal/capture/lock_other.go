//go:build !linux

package capture

// lockHolder: only Linux capture takes a flock on the device (lock_linux.go).
func lockHolder(error) string { return "" }
