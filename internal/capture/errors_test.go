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

	"go.bug.st/serial"
)

var cp2102 = PortInfo{Path: "/dev/ttyUSB0", USB: true, VID: "10c4", PID: "ea60", Serial: "0001",
	Manufacturer: "Silicon Labs", Product: "CP2102 USB to UART Bridge Controller", Chip: "CP210x", ESP32: true}

// runErr runs a capture of opts with the port list ports and returns what
// Run returns at start.
func runErr(t *testing.T, opts Options, ports []PortInfo) error {
	t.Helper()
	c, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	c.list = func() ([]PortInfo, error) { return ports, nil }
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	return c.Run(ctx, newRecorder())
}

func TestNotFoundListsWhatIsPresent(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ttyUSB9")
	err := runErr(t, Options{Port: path}, []PortInfo{cp2102})
	want := path + " not found; present: /dev/ttyUSB0 (CP210x 10c4:ea60, Silicon Labs CP2102 USB to UART " +
		"Bridge Controller, serial 0001); use --port or --sim"
	if !errors.Is(err, ErrNotFound) || err.Error() != want {
		t.Fatalf("got %v\nwant %s", err, want)
	}
	err = runErr(t, Options{Port: path}, nil)
	if want := path + " not found; no serial ports present; use --port or --sim"; err == nil || err.Error() != want {
		t.Fatalf("got %v, want %s", err, want)
	}
}

func TestClassifyBusyAndPermission(t *testing.T) {
	// go.bug.st/serial reports EBUSY as a PortError whose code is zero.
	err := classify("/dev/ttyACM0", &serial.PortError{}, nil)
	want := "/dev/ttyACM0 is busy: another program holds it (ModemManager, a serial monitor, another wsbridge); " +
		"close it or stop ModemManager"
	if !errors.Is(err, ErrBusy) || err.Error() != want {
		t.Fatalf("busy: got %v", err)
	}
	err = classify("/dev/ttyUSB0", &os.PathError{Op: "open", Path: "/dev/ttyUSB0", Err: syscall.EACCES}, nil)
	if !errors.Is(err, ErrPermission) || err.Error() != permissionMsg("/dev/ttyUSB0") {
		t.Fatalf("permission: got %v", err)
	}
	err = classify("/dev/ttyUSB0", syscall.ENOENT, nil)
	if !errors.Is(err, ErrNotFound) || !errors.Is(err, syscall.ENOENT) {
		t.Fatalf("raw errno: got %v", err)
	}
}

func permissionMsg(path string) string {
	return "permission denied opening " + path + ": add your user to the dialout group " +
		"(sudo usermod -aG dialout $USER, then log in again)"
}

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

func TestUnsupportedSettingIsNamed(t *testing.T) {
	p := newPort(t)
	err := runErr(t, Options{Port: p.Name(), StopBits: "1.5"}, nil)
	if err == nil || !strings.HasPrefix(err.Error(), "failed to open "+p.Name()+": ") ||
		!strings.Contains(err.Error(), "stop bits invalid or not supported") {
		t.Fatalf("got %v", err)
	}
}

// A path that is not a serial port (here a regular file) is named as such,
// with the ports that are.
func TestNotASerialPortListsWhatIsPresent(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ttyUSB0")
	if err := os.WriteFile(path, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	err := runErr(t, Options{Port: path}, []PortInfo{cp2102})
	if err == nil || !strings.HasPrefix(err.Error(), "failed to open "+path+": Invalid serial port") ||
		!strings.HasSuffix(err.Error(), "; is it a serial port? present: "+cp2102.Summary()) {
		t.Fatalf("got %v", err)
	}
}
