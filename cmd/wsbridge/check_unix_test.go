//go:build unix

package main

import (
	"strings"
	"testing"

	"github.com/creack/pty"
	"golang.org/x/sys/unix"

	"github.com/wsbridge/wsbridge/internal/cli"
)

func TestServeCheckOpensThePort(t *testing.T) {
	master, slave, err := pty.Open()
	if err != nil {
		t.Skipf("no pty: %v", err)
	}
	defer master.Close()
	defer slave.Close()
	out, errOut, code := exec(t, "serve", "--port", slave.Name(), "--listen", "127.0.0.1:0", "--check", "--log-format", "json")
	if code != 0 || !strings.Contains(out, "port: "+slave.Name()) || !strings.Contains(errOut, `"message":"check: the device opens"`) {
		t.Errorf("a free pty: code %d stdout %q stderr %q", code, out, errOut)
	}
	if err := unix.Flock(int(slave.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		t.Fatal(err)
	}
	_, errOut, code = exec(t, "serve", "--port", slave.Name(), "--listen", "127.0.0.1:0", "--check")
	if code != cli.ExitDevice || !strings.Contains(errOut, slave.Name()+" is busy: ") {
		t.Errorf("a locked pty: code %d stderr %q, want exit 3 and busy", code, errOut)
	}
}
