package pollio

import (
	"bytes"
	"errors"
	"io"
	"net"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/creack/pty"

	"github.com/wsbridge/wsbridge/internal/testsupport"
)

// openPty returns a pty's master and its slave opened non-blocking, as
// capture opens a serial port.
func openPty(t *testing.T) (master, slave *os.File) {
	t.Helper()
	m, s, err := pty.Open()
	if err != nil {
		t.Fatal(err)
	}
	name := s.Name()
	s.Close()
	slave, err = os.OpenFile(name, os.O_RDWR|syscall.O_NOCTTY|syscall.O_NONBLOCK, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close(); slave.Close() })
	return m, slave
}

func newFD(t testing.TB, sc syscall.Conn) *FD {
	t.Helper()
	rc, err := sc.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	return New(rc)
}

func TestReadPtyWaitsForData(t *testing.T) {
	m, s := openPty(t)
	// canonical mode: the line is delivered at its newline
	fd := newFD(t, s)
	go func() {
		time.Sleep(20 * time.Millisecond) // Read must be parked, not spinning on EAGAIN
		m.Write([]byte("hello\n"))
	}()
	buf := make([]byte, 64)
	var got []byte
	for len(got) < 6 {
		n, err := fd.Read(buf)
		if err != nil {
			t.Fatalf("Read: %v after %q", err, got)
		}
		got = append(got, buf[:n]...)
	}
	if string(got) != "hello\n" {
		t.Errorf("got %q, want %q", got, "hello\n")
	}
}

func TestReadDeadlineAndClose(t *testing.T) {
	_, s := openPty(t)
	fd := newFD(t, s)
	s.SetReadDeadline(time.Now().Add(30 * time.Millisecond))
	if _, err := fd.Read(make([]byte, 8)); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("Read past the deadline: got %v, want os.ErrDeadlineExceeded", err)
	}
	s.SetReadDeadline(time.Time{})
	done := make(chan error, 1)
	go func() { _, err := fd.Read(make([]byte, 8)); done <- err }()
	time.Sleep(20 * time.Millisecond)
	s.Close()
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("Read after Close: got nil error")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not unblock Read")
	}
}

func TestReadHangup(t *testing.T) {
	m, s := openPty(t)
	fd := newFD(t, s)
	m.Close() // the other end goes away, as a USB device does
	_, err := fd.Read(make([]byte, 8))
	if !errors.Is(err, syscall.EIO) && !errors.Is(err, io.EOF) {
		t.Fatalf("Read after hangup: got %v, want EIO or EOF", err)
	}
}

// TestWriteAllThroughFullSocket writes far more than the socket buffers
// hold to a peer that reads slowly: Write must wait in the poller and
// deliver every byte in order.
func TestWriteAllThroughFullSocket(t *testing.T) {
	a, b := testsupport.TCPPair(t)
	fd := newFD(t, a)
	want := make([]byte, 8<<20)
	for i := range want {
		want[i] = byte(i * 7)
	}
	got := make(chan []byte, 1)
	go func() {
		time.Sleep(50 * time.Millisecond) // let the buffers fill
		all, _ := io.ReadAll(b)
		got <- all
	}()
	n, err := fd.Write(want)
	if err != nil || n != len(want) {
		t.Fatalf("Write: %d, %v; want %d, nil", n, err, len(want))
	}
	a.CloseWrite()
	select {
	case g := <-got:
		if !bytes.Equal(g, want) {
			t.Fatalf("peer got %d bytes, not the %d written", len(g), len(want))
		}
	case <-time.After(10 * time.Second):
		t.Fatal("peer did not finish reading")
	}
}

func TestWriteErrorsAndDeadline(t *testing.T) {
	a, b := testsupport.TCPPair(t)
	fd := newFD(t, a)
	a.SetWriteDeadline(time.Now().Add(50 * time.Millisecond))
	_, err := fd.Write(make([]byte, 64<<20)) // the peer never reads
	if !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("Write to a stalled peer past the deadline: got %v, want os.ErrDeadlineExceeded", err)
	}
	a.SetWriteDeadline(time.Time{})
	expectReset(t, b, "Write", fd.Write)
}

// expectReset resets peer's end of the connection and writes a byte at a
// time (at most 100, 10 ms apart) until write fails as a write to a reset
// peer must: ECONNRESET or EPIPE.
func expectReset(t *testing.T, peer *net.TCPConn, what string, write func([]byte) (int, error)) {
	t.Helper()
	peer.SetLinger(0)
	peer.Close()
	var last error
	for range 100 {
		if _, last = write([]byte("x")); last != nil {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if !errors.Is(last, syscall.ECONNRESET) && !errors.Is(last, syscall.EPIPE) {
		t.Fatalf("%s to a reset peer: got %v, want ECONNRESET or EPIPE", what, last)
	}
}

func TestNoAllocations(t *testing.T) {
	a, b := testsupport.TCPPair(t)
	fa, fb := newFD(t, a), newFD(t, b)
	msg, buf := []byte("frame"), make([]byte, 64)
	allocs := testing.AllocsPerRun(100, func() {
		if _, err := fa.Write(msg); err != nil {
			t.Fatal(err)
		}
		if n, err := fb.Read(buf); err != nil || n == 0 {
			t.Fatal(n, err)
		}
	})
	if allocs != 0 {
		t.Errorf("Write+Read: %v allocations, want 0", allocs)
	}
}

// TryRead does not wait (ErrWouldBlock when nothing is there);
// WaitReadable parks until there is something, and reads none of it;
// both see the peer's end.
func TestTryReadAndWaitReadable(t *testing.T) {
	a, b := testsupport.TCPPair(t)
	fd := newFD(t, a)
	buf := make([]byte, 64)
	if n, err := fd.TryRead(buf); n != 0 || err != ErrWouldBlock {
		t.Fatalf("TryRead with nothing there: %d, %v; want 0, ErrWouldBlock", n, err)
	}
	go b.Write([]byte("hello"))
	if err := fd.WaitReadable(); err != nil {
		t.Fatalf("WaitReadable: %v", err)
	}
	var got []byte
	for len(got) < 5 {
		n, err := fd.TryRead(buf)
		if err == ErrWouldBlock {
			continue
		}
		if err != nil {
			t.Fatalf("TryRead: %v after %q", err, got)
		}
		got = append(got, buf[:n]...)
	}
	if string(got) != "hello" {
		t.Fatalf("read %q, want hello", got)
	}
	b.Close()
	if err := fd.WaitReadable(); err != nil {
		t.Fatalf("WaitReadable at the peer's end: %v", err)
	}
	if n, err := fd.TryRead(buf); n != 0 || err != nil {
		t.Fatalf("TryRead at the peer's end: %d, %v; want 0, nil", n, err)
	}
	allocs := testing.AllocsPerRun(100, func() {
		fd.WaitReadable()
		fd.TryRead(buf)
	})
	if allocs != 0 {
		t.Errorf("WaitReadable+TryRead: %v allocations, want 0", allocs)
	}
}

// TryWrite never waits: into a peer that does not read it writes what the
// socket takes and then reports ErrWouldBlock with the count; what it
// wrote, followed by the rest through Write, reaches the peer whole and in
// order; a reset peer is an error, not ErrWouldBlock.
func TestTryWrite(t *testing.T) {
	a, b := testsupport.TCPPair(t)
	fd := newFD(t, a)
	want := make([]byte, 64<<20) // more than loopback's buffers hold
	for i := range want {
		want[i] = byte(i * 13)
	}
	n, err := fd.TryWrite(want)
	if err != ErrWouldBlock || n <= 0 || n >= len(want) {
		t.Fatalf("TryWrite into a peer that reads nothing: %d, %v; want part of %d, ErrWouldBlock", n, err, len(want))
	}
	if n2, err := fd.TryWrite(want[n:]); err != ErrWouldBlock || n2 != 0 {
		t.Fatalf("TryWrite into a full socket: %d, %v; want 0, ErrWouldBlock", n2, err)
	}
	got := make(chan []byte, 1)
	go func() {
		all, _ := io.ReadAll(b)
		got <- all
	}()
	if m, err := fd.Write(want[n:]); err != nil || m != len(want)-n {
		t.Fatalf("Write of the rest: %d, %v", m, err)
	}
	a.CloseWrite()
	select {
	case g := <-got:
		if !bytes.Equal(g, want) {
			t.Fatalf("peer got %d bytes, not the %d written", len(g), len(want))
		}
	case <-time.After(20 * time.Second):
		t.Fatal("peer did not finish reading")
	}

	c, d := testsupport.TCPPair(t)
	fc := newFD(t, c)
	if m, err := fc.TryWrite([]byte("small")); err != nil || m != 5 {
		t.Fatalf("TryWrite with room: %d, %v; want 5, nil", m, err)
	}
	expectReset(t, d, "TryWrite", fc.TryWrite)
}

// TryRead and TryWrite on a closed connection fail with net.ErrClosed,
// and OpError names it as the connection's own Read and Write would.
func TestTryOnClosed(t *testing.T) {
	a, _ := testsupport.TCPPair(t)
	fd := newFD(t, a)
	a.Close()
	_, rerr := fd.TryRead(make([]byte, 8))
	_, werr := fd.TryWrite([]byte("x"))
	for _, tc := range []struct {
		op  string
		err error
	}{{"read", rerr}, {"write", werr}} {
		if !errors.Is(tc.err, net.ErrClosed) {
			t.Fatalf("Try%s on a closed connection: %v, want net.ErrClosed", tc.op, tc.err)
		}
		want := tc.op + " tcp " + a.LocalAddr().String() + "->" + a.RemoteAddr().String() + ": use of closed network connection"
		if got := OpError(a, tc.op, tc.err).Error(); got != want {
			t.Errorf("Try%s's error: %q, want %q", tc.op, got, want)
		}
	}
}

// BenchmarkTryWrite is one TryWrite of a frame-sized message to a TCP
// peer that reads it: the system call and what pollio adds around it.
func BenchmarkTryWrite(b *testing.B) {
	x, y := testsupport.TCPPair(b)
	fd := newFD(b, x)
	go io.Copy(io.Discard, y)
	msg := make([]byte, 540)
	for b.Loop() {
		if _, err := fd.TryWrite(msg); err != nil && err != ErrWouldBlock {
			b.Fatal(err)
		}
	}
}

// BenchmarkTryRead is one TryRead of a socket with nothing to read.
func BenchmarkTryRead(b *testing.B) {
	x, _ := testsupport.TCPPair(b)
	fd := newFD(b, x)
	buf := make([]byte, 8<<10)
	for b.Loop() {
		if _, err := fd.TryRead(buf); err != ErrWouldBlock {
			b.Fatal(err)
		}
	}
}
