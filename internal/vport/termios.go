//go:build linux || darwin

package vport

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// makeRaw puts the pty slave s in raw mode, as cfmakeraw(3) does, and
// disables software flow control, so that all 256 byte values pass
// unchanged both ways.
func makeRaw(s *os.File) error {
	err := control(s, func(fd int) error {
		t, err := unix.IoctlGetTermios(fd, getTermios)
		if err != nil {
			return err
		}
		t.Iflag &^= unix.IGNBRK | unix.BRKINT | unix.PARMRK | unix.ISTRIP | unix.INLCR |
			unix.IGNCR | unix.ICRNL | unix.IXON | unix.IXOFF | unix.IXANY
		t.Oflag &^= unix.OPOST
		t.Lflag &^= unix.ECHO | unix.ECHONL | unix.ICANON | unix.ISIG | unix.IEXTEN
		t.Cflag &^= unix.CSIZE | unix.PARENB
		t.Cflag |= unix.CS8
		t.Cc[unix.VMIN], t.Cc[unix.VTIME] = 1, 0
		return unix.IoctlSetTermios(fd, setTermios, t)
	})
	if err != nil {
		return fmt.Errorf("failed to set %s to raw mode: %w", s.Name(), err)
	}
	return nil
}

// control runs fn on f's descriptor without switching f to blocking mode
// (which os.File.Fd would do).
func control(f *os.File, fn func(fd int) error) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var ferr error
	if err := rc.Control(func(fd uintptr) { ferr = fn(int(fd)) }); err != nil {
		return err
	}
	return ferr
}
