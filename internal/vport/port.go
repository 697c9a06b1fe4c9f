//go:build linux || darwin

package vport

import (
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/creack/pty"
	"golang.org/x/sys/unix"
)

// Port is the master side of a raw-mode pty.
//
// Read and Write may be called concurrently with each other (one reader and
// one writer goroutine) and with Close. Close is idempotent: it closes the
// pty (readers of the slave see end of file or EIO, as when a USB device is
// unplugged), removes the symlink if it still points at this pty, and
// unblocks a pending Read or Write, which then return an error wrapping
// os.ErrClosed. Whoever called Create must Close.
type Port struct {
	master *os.File // non-blocking, so that deadlines and Close work
	slave  *os.File // held open: see Create
	name   string
	link   string
	lock   *linkLock // held on the link path for the Port's life

	once     sync.Once
	closeErr error
}

// Create makes a raw-mode pty. If link is not empty, a symlink to the slave
// (e.g. /tmp/ttySIM -> /dev/pts/5) is created there; an existing symlink at
// that path (typically left by a program that was killed) is replaced, but
// anything else at that path is an error wrapping ErrNotSymlink. The link
// path is locked (flock on PATH.lock) for the Port's life: while another
// Port holds it, Create fails with an *InUseError (ErrInUse) and leaves the
// other's link alone.
//
// The Port keeps its own descriptor of the slave open for its whole life.
// That keeps the slave's settings and makes Read on the master wait, rather
// than fail with EIO, while no program has the slave open. It never reads
// from it, so it takes no bytes from the real reader.
func Create(link string) (*Port, error) {
	var lock *linkLock
	if link != "" {
		var err error
		if lock, err = lockLink(link); err != nil {
			return nil, err
		}
	}
	m, s, err := pty.Open()
	if err != nil {
		lock.unlock()
		return nil, fmt.Errorf("failed to open a pty: %w", err)
	}
	p := &Port{slave: s, name: s.Name(), link: link, lock: lock}
	if p.master, err = nonBlocking(m); err != nil {
		s.Close()
		lock.unlock()
		return nil, err
	}
	if err = makeRaw(s); err != nil {
		p.closeFiles()
		return nil, err
	}
	if link != "" {
		if err = replaceLink(p.name, link); err != nil {
			p.closeFiles()
			return nil, err
		}
	}
	return p, nil
}

// nonBlocking returns a pollable duplicate of the pty master m and closes m.
// creack/pty hands the master back in blocking mode (it calls Fd), where
// neither deadlines nor Close can interrupt a blocked Read.
func nonBlocking(m *os.File) (*os.File, error) {
	defer m.Close()
	fd, err := unix.FcntlInt(m.Fd(), unix.F_DUPFD_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("failed to duplicate the pty master: %w", err)
	}
	if err := unix.SetNonblock(fd, true); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("failed to set the pty master non-blocking: %w", err)
	}
	return os.NewFile(uintptr(fd), "/dev/ptmx"), nil
}

// Name is the slave's path, e.g. /dev/pts/5: what a reader opens.
func (p *Port) Name() string { return p.name }

// Link is the symlink path given to Create, or "".
func (p *Port) Link() string { return p.link }

// Read reads what the program on the slave side wrote.
func (p *Port) Read(b []byte) (int, error) { return p.master.Read(b) }

// Write sends b to the slave side. It blocks while the kernel buffer is
// full, that is while nobody reads the slave (see the package doc).
func (p *Port) Write(b []byte) (int, error) { return p.master.Write(b) }

// SetDeadline sets the read and write deadlines, as net.Conn does.
func (p *Port) SetDeadline(t time.Time) error { return p.master.SetDeadline(t) }

// SetReadDeadline makes a pending and future Read fail after t.
func (p *Port) SetReadDeadline(t time.Time) error { return p.master.SetReadDeadline(t) }

// SetWriteDeadline makes a pending and future Write fail after t.
func (p *Port) SetWriteDeadline(t time.Time) error { return p.master.SetWriteDeadline(t) }

// Buffered is the number of bytes written to the port that the reader of
// the slave has not read yet (the slave's input queue).
func (p *Port) Buffered() (int, error) {
	n := 0
	err := control(p.slave, func(fd int) error {
		var e error
		n, e = unix.IoctlGetInt(fd, inqRequest)
		return e
	})
	if err != nil {
		return 0, fmt.Errorf("failed to query %s: %w", p.name, err)
	}
	return n, nil
}

// Close closes the pty and removes the symlink. It is idempotent.
func (p *Port) Close() error {
	p.once.Do(func() {
		if p.link != "" {
			removeLink(p.name, p.link)
		}
		p.closeErr = p.closeFiles()
	})
	return p.closeErr
}

func (p *Port) closeFiles() error {
	defer p.lock.unlock()
	err := p.master.Close()
	if e := p.slave.Close(); err == nil {
		err = e
	}
	if err != nil {
		return fmt.Errorf("failed to close %s: %w", p.name, err)
	}
	return nil
}
