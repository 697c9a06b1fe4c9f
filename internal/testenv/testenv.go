// Package testenv lets tests that need an outside program (chromium,
// Rscript, python3, node, gcc, socat) run wherever it exists: on a
// developer's machine without it they skip with a message saying what to
// install; under CI=true (where .ci/run installs everything) they fail, so CI
// never passes by skipping.
//
// Entry point: Need.
package testenv

import (
	"os"
	"os/exec"
	"testing"
)

// Need returns the path of program, or skips (fails under CI=true) the test
// with a message naming the Debian package that provides it.
func Need(t testing.TB, program, debPackage string) string {
	t.Helper()
	p, err := exec.LookPath(program)
	if err == nil {
		return p
	}
	msg := program + " not found: install it (apt-get install " + debPackage + ") to run this test"
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}
