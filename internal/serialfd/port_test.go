//go:build linux || darwin

package serialfd

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"go.bug.st/serial"

	"github.com/wsbridge/wsbridge/internal/vport"
)

// TestOpenErrorIsTheErrno: callers name the path themselves, so a missing
// device is the bare ENOENT, and a failing prepare or open closes what
// was opened and returns its error.
func TestOpenErrorIsTheErrno(t *testing.T) {
	_, err := Open(filepath.Join(t.TempDir(), "ttyNone"), &serial.Mode{BaudRate: 115200}, nil, serial.Open)
	if !errors.Is(err, syscall.ENOENT) {
		t.Fatalf("err = %v, want ENOENT", err)
	}
	if _, ok := err.(*os.PathError); ok {
		t.Fatalf("err %v still names the path", err)
	}
	p, err := vport.Create(filepath.Join(t.TempDir(), "tty"))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	refuse := errors.New("refused")
	if _, err := Open(p.Name(), &serial.Mode{}, func(*os.File) error { return refuse }, serial.Open); err != refuse {
		t.Fatalf("prepare's error: got %v", err)
	}
	if _, err := Open(p.Name(), &serial.Mode{}, nil, func(string, *serial.Mode) (serial.Port, error) { return nil, refuse }); err != refuse {
		t.Fatalf("open's error: got %v", err)
	}
}

// TestPortCarriesBytesAndClosesTwice: bytes written to the far end of a
// pty are read from File; Close releases both descriptors and a second
// Close is harmless.
func TestPortCarriesBytesAndClosesTwice(t *testing.T) {
	v, err := vport.Create(filepath.Join(t.TempDir(), "tty"))
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	p, err := Open(v.Name(), &serial.Mode{BaudRate: 115200}, nil, serial.Open)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Write([]byte("hi\n")); err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 8)
	n, err := p.File.Read(b)
	if err != nil || string(b[:n]) != "hi\n" {
		t.Fatalf("read %q, %v; want \"hi\\n\"", b[:n], err)
	}
	if err := p.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := p.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}
