// Package vport creates virtual serial ports: raw-mode pseudo-terminals
// (ptys) whose slave side a program opens like /dev/ttyUSB0, optionally
// reachable through a stable symlink such as /tmp/ttySIM.
//
// Entry point: Create. The returned *Port is the master side: what is
// written to it arrives unchanged at whoever reads the slave (Port.Name, or
// the symlink Port.Link), and what they write comes out of Port.Read.
//
// The slave is set to raw mode (no echo, no CR/LF translation, no line
// editing, 8 bits, no flow control) so that every byte 0x00..0xFF passes
// unchanged in both directions. A reader that sets its own termios (pyserial,
// go.bug.st/serial, R's serial package) may change that; one that does not
// (cat, R's file()) gets raw bytes.
//
// One link, one owner: Create locks the link path (flock on PATH.lock,
// which holds the owner's pid) for the Port's life, so a second program
// asking for the same path gets an *InUseError (ErrInUse) and the first
// keeps its link. The kernel drops the lock when its owner dies.
//
// Platforms: Linux and macOS share this code; only the termios and
// input-queue ioctl numbers differ (ioctl_linux.go, ioctl_darwin.go).
// Elsewhere Create fails with ErrUnsupported and says what to use instead
// (com0com on Windows).
//
// Backpressure: the kernel buffers what nobody has read yet (about 16 KiB
// measured on Linux 6.x with no reader attached). When no program reads the
// slave, that buffer fills and Write on the master blocks until someone
// reads; a reader that opens the port later first gets those stale bytes.
// Callers that must not block (a simulated device keeping real time) should
// either set a write deadline (Port supports SetWriteDeadline, Close also
// unblocks a pending Write) or, like adcsim, keep generating and drop what
// cannot be delivered, counting it. Port.Buffered reports how many bytes the
// reader has not taken yet.
package vport
