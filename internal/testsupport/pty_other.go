//go:build !unix

package testsupport

import (
	"os"
	"testing"
)

// OpenSlave needs a pty: on other systems it skips the test.
func OpenSlave(t testing.TB, path string) *os.File {
	t.Helper()
	t.Skipf("opening the pty %s needs a Unix system", path)
	return nil
}
