//go:build linux || darwin

package vport

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// linkLock is an exclusive lock on a link path, held for a Port's life:
// an flock(2) on PATH.lock, which holds the owner's pid. The kernel drops
// it when the owner dies, however it dies, so a stale lock file never
// blocks anyone.
type linkLock struct {
	f    *os.File
	path string
}

// lockLink takes the lock of link, or fails with ErrInUse naming the pid
// that holds it.
func lockLink(link string) (*linkLock, error) {
	path := link + ".lock"
	for range 3 { // the holder may remove the file between our open and flock: retry
		f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
		if err != nil {
			if dir := filepath.Dir(link); errors.Is(err, fs.ErrNotExist) && !exists(dir) {
				return nil, fmt.Errorf("cannot make %s: the directory %s does not exist", link, dir)
			}
			return nil, fmt.Errorf("failed to lock %s: %w", link, err)
		}
		if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
			pid := readPid(f)
			f.Close()
			if errors.Is(err, unix.EWOULDBLOCK) {
				return nil, &InUseError{Path: link, Pid: pid}
			}
			return nil, fmt.Errorf("failed to lock %s: %w", link, err)
		}
		if sameFile(f, path) {
			f.Truncate(0)
			f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
			return &linkLock{f: f, path: path}, nil
		}
		f.Close() // locked a file its holder had just removed
	}
	return nil, fmt.Errorf("failed to lock %s: %s keeps changing", link, path)
}

// sameFile reports whether f is still the file at path.
func sameFile(f *os.File, path string) bool {
	a, err1 := f.Stat()
	b, err2 := os.Stat(path)
	return err1 == nil && err2 == nil && os.SameFile(a, b)
}

func readPid(f *os.File) int {
	b := make([]byte, 16)
	n, _ := f.ReadAt(b, 0)
	pid, _ := strconv.Atoi(strings.TrimSpace(string(b[:n])))
	return pid
}

// unlock removes the lock file, then releases the lock. Idempotent.
func (l *linkLock) unlock() {
	if l == nil || l.f == nil {
		return
	}
	os.Remove(l.path)
	l.f.Close()
	l.f = nil
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
