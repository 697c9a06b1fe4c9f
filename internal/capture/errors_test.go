package capture

import (
	"context"
	"errors"
	"os"
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
		"Bridge Controller, serial 0001); pass one of those to --port (wsbridge ports marks the ESP32), or use --sim to run without a board"
	if !errors.Is(err, ErrNotFound) || err.Error() != want {
		t.Fatalf("got %v\nwant %s", err, want)
	}
	err = runErr(t, Options{Port: path}, nil)
	if want := path + " not found; no serial ports present: plug the board in with a data (not charge-only) USB cable, or use --sim to run without one"; err == nil || err.Error() != want {
		t.Fatalf("got %v, want %s", err, want)
	}
	// serve's devices name their own way to run without a board (--sim
	// does not go with --device or a devices: entry).
	err = runErr(t, Options{Port: path, Setting: "--device mic", Without: "use --device mic=sim"}, []PortInfo{cp2102})
	if hint := "pass one of those to --device mic (wsbridge ports marks the ESP32), or use --device mic=sim to run without a board"; err == nil || !strings.HasSuffix(err.Error(), hint) {
		t.Errorf("got %v, want it to end with %q", err, hint)
	}
}

func TestClassifyBusyAndPermission(t *testing.T) {
	// go.bug.st/serial reports EBUSY as a PortError whose code is zero.
	err := classify("/dev/ttyACM0", &serial.PortError{}, nil, "--port", "use --sim")
	want := "/dev/ttyACM0 is busy: another program holds it (ModemManager, a serial monitor, another wsbridge); " +
		"close it or stop ModemManager"
	if !errors.Is(err, ErrBusy) || err.Error() != want {
		t.Fatalf("busy: got %v", err)
	}
	err = classify("/dev/ttyUSB0", &os.PathError{Op: "open", Path: "/dev/ttyUSB0", Err: syscall.EACCES}, nil, "--port", "use --sim")
	if !errors.Is(err, ErrPermission) || err.Error() != permissionMsg("/dev/ttyUSB0") {
		t.Fatalf("permission: got %v", err)
	}
	err = classify("/dev/ttyUSB0", syscall.ENOENT, nil, "--port", "use --sim")
	if !errors.Is(err, ErrNotFound) || !errors.Is(err, syscall.ENOENT) {
		t.Fatalf("raw errno: got %v", err)
	}
}

func permissionMsg(path string) string {
	return "permission denied opening " + path + ": add your user to the dialout group " +
		"(sudo usermod -aG dialout $USER, then log in again)"
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
