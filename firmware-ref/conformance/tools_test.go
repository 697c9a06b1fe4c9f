package conformance

import (
	"bytes"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wsbridge/wsbridge/internal/testenv"
)

// compile runs compiler (gcc or g++, from the Debian package of that
// name: the test skips without it, and fails under CI=true) with args and
// returns its error with the compiler's output.
func compile(t testing.TB, compiler string, args ...string) error {
	t.Helper()
	cc := testenv.Need(t, compiler, compiler)
	if msg, err := exec.Command(cc, args...).CombinedOutput(); err != nil {
		return fmt.Errorf("%w\n%s", err, msg)
	}
	return nil
}

// runScript runs bin with script on its stdin, one line each, and returns
// what it wrote on stdout; a failure fails the test with its stderr.
func runScript(t testing.TB, bin string, script []string) (stdout []byte, stderr string) {
	t.Helper()
	cmd := exec.Command(bin)
	cmd.Stdin = strings.NewReader(strings.Join(script, "\n") + "\n")
	var eb bytes.Buffer
	cmd.Stderr = &eb
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s failed: %v\n%s", filepath.Base(bin), err, eb.String())
	}
	return out, eb.String()
}

// runLines runs a host program (wsb_host, wsb_ring_host) with one command
// per line and returns its answers, one line per command.
func runLines(t testing.TB, bin string, cmds []string) []string {
	t.Helper()
	out, stderr := runScript(t, bin, cmds)
	lines := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
	if len(lines) != len(cmds) {
		t.Fatalf("%s answered %d lines for %d commands; stderr: %s", filepath.Base(bin), len(lines), len(cmds), stderr)
	}
	return lines
}
