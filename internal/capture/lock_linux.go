package capture

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// lockedError reports that another process holds the device's lock.
// It matches syscall.EBUSY, so classify calls the device busy.
type lockedError struct {
	pid int // the holder, 0 if unknown
}

func (e *lockedError) Error() string {
	if e.pid > 0 {
		return fmt.Sprintf("locked by process %d", e.pid)
	}
	return "locked by another process"
}

func (e *lockedError) Unwrap() error { return syscall.EBUSY }

// holder names who holds the lock, for the busy message.
func (e *lockedError) holder() string {
	if e.pid <= 0 {
		return ""
	}
	name, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", e.pid))
	if n := strings.TrimSpace(string(name)); n != "" {
		return fmt.Sprintf("%s (pid %d)", n, e.pid)
	}
	return fmt.Sprintf("pid %d", e.pid)
}

// lockDevice takes an exclusive flock on f, the capture's own descriptor
// of the device. TIOCEXCL, which go.bug.st/serial sets, does not stop
// root (CAP_SYS_ADMIN ignores it), so two serve processes run as root
// would both read the port and each lose frames to the other; flock holds
// for root too. The lock lasts as long as f is open.
func lockDevice(f *os.File) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var lockErr error
	if err := rc.Control(func(fd uintptr) {
		lockErr = unix.Flock(int(fd), unix.LOCK_EX|unix.LOCK_NB)
	}); err != nil {
		return err
	}
	if errors.Is(lockErr, unix.EWOULDBLOCK) {
		return &lockedError{pid: flockHolder(f)}
	}
	return lockErr
}

// flockHolder finds the pid holding a FLOCK on f's inode in /proc/locks,
// or 0. Lines read "1: FLOCK  ADVISORY  WRITE 1234 00:05:123 0 EOF".
func flockHolder(f *os.File) int {
	var st unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &st); err != nil {
		return 0
	}
	want := fmt.Sprintf("%02x:%02x:%d", unix.Major(st.Dev), unix.Minor(st.Dev), st.Ino)
	locks, err := os.Open("/proc/locks")
	if err != nil {
		return 0
	}
	defer locks.Close()
	sc := bufio.NewScanner(locks)
	for sc.Scan() {
		fs := strings.Fields(sc.Text())
		if len(fs) >= 6 && fs[1] == "FLOCK" && fs[5] == want {
			pid, _ := strconv.Atoi(fs[4])
			return pid
		}
	}
	return 0
}

// lockHolder names the process holding the device's lock when err says
// the device is locked, or "".
func lockHolder(err error) string {
	var le *lockedError
	if errors.As(err, &le) {
		if h := le.holder(); h != "" {
			return h
		}
		return "another process"
	}
	return ""
}
