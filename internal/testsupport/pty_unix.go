//go:build unix

package testsupport

import (
	"os"
	"syscall"
	"testing"
)

// OpenSlave opens the pty slave at path (or a link to it) for reading and
// writing, without making it the controlling terminal, as a program
// using a serial port does. It is closed when the test ends.
func OpenSlave(t testing.TB, path string) *os.File {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatalf("open %s: %v", path, err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}
