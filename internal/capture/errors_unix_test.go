//go:build unix

package capture

import (
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// The real permission and busy errors need a user without root's
// capabilities: as root, the test re-runs itself as nobody.
func TestPermissionAndBusyForRealUser(t *testing.T) {
	dir, err := os.MkdirTemp("", "capture-perm")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	os.Chmod(dir, 0o755)
	locked := filepath.Join(dir, "ttyLOCKED")
	if err := os.WriteFile(locked, nil, 0); err != nil {
		t.Fatal(err)
	}
	p := newPort(t)
	start(t, Options{Port: p.Name(), Input: InputFrames}) // holds the pty, exclusively
	if err := os.Chmod(p.Name(), 0o666); err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, path := range []string{locked, p.Name()} {
		got[path] = openAsUser(t, dir, path)
	}
	if got[locked] != permissionMsg(locked) {
		t.Errorf("mode 000 file: got %q", got[locked])
	}
	wantBusy := p.Name() + " is busy: another program holds it (ModemManager, a serial monitor, " +
		"another wsbridge); close it or stop ModemManager"
	if got[p.Name()] != wantBusy {
		t.Errorf("pty held by another capture: got %q", got[p.Name()])
	}
}

// openAsUser opens path with a capture as a non-root user and returns the
// error text (with its sentinel checked by the child).
func openAsUser(t *testing.T, dir, path string) string {
	t.Helper()
	if os.Geteuid() != 0 {
		return openErrText(path)
	}
	bin := filepath.Join(dir, "capture.test")
	copyFile(t, bin)
	cmd := exec.Command(bin, "-test.run=^TestHelperOpenAsUser$")
	cmd.Env = append(os.Environ(), "CAPTURE_HELPER_PATH="+path)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	out, err := cmd.CombinedOutput()
	if errors.Is(err, syscall.EPERM) {
		t.Skipf("cannot run as nobody here: %v", err)
	}
	if err != nil {
		t.Fatalf("helper as nobody: %v\n%s", err, out)
	}
	for _, l := range strings.Split(string(out), "\n") {
		if s, ok := strings.CutPrefix(l, "ERR: "); ok {
			return s
		}
	}
	t.Fatalf("helper printed no error:\n%s", out)
	return ""
}

func TestHelperOpenAsUser(t *testing.T) {
	path := os.Getenv("CAPTURE_HELPER_PATH")
	if path == "" {
		t.Skip("helper for TestPermissionAndBusyForRealUser")
	}
	os.Stdout.WriteString("ERR: " + openErrText(path) + "\n")
}

func openErrText(path string) string {
	c, err := New(Options{Port: path})
	if err != nil {
		return err.Error()
	}
	c.list = func() ([]PortInfo, error) { return nil, nil }
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	err = c.Run(ctx, newRecorder())
	switch {
	case err == nil:
		return "no error"
	case !errors.Is(err, ErrPermission) && !errors.Is(err, ErrBusy):
		return "unclassified: " + err.Error()
	}
	return err.Error()
}

func copyFile(t *testing.T, dst string) {
	t.Helper()
	src, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	in, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o755)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
}
