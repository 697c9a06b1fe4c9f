//go:build linux || darwin

package vport

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wsbridge/wsbridge/internal/testsupport"
)

func allBytes() []byte {
	b := make([]byte, 256)
	for i := range b {
		b[i] = byte(i)
	}
	return b
}

// readFull reads len(want) bytes from r within 5 s.
func readFull(t *testing.T, r interface {
	io.Reader
	SetReadDeadline(time.Time) error
}, n int) []byte {
	t.Helper()
	if err := r.SetReadDeadline(time.Now().Add(5 * time.Second)); err != nil {
		t.Fatal(err)
	}
	got := make([]byte, n)
	if _, err := io.ReadFull(r, got); err != nil {
		t.Fatalf("read: %v", err)
	}
	return got
}

func TestBytesRoundTripUnchanged(t *testing.T) {
	p, err := Create("")
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	s := testsupport.OpenSlave(t, p.Name())
	want := bytes.Repeat(allBytes(), 4) // includes \r, \n, ^C, ^S, ^Q, ^D, 0x7f
	if _, err := p.Write(want); err != nil {
		t.Fatal(err)
	}
	if got := readFull(t, s, len(want)); !bytes.Equal(got, want) {
		t.Fatalf("master->slave changed bytes:\n got %x\nwant %x", got, want)
	}
	if _, err := s.Write(want); err != nil {
		t.Fatal(err)
	}
	if got := readFull(t, p, len(want)); !bytes.Equal(got, want) {
		t.Fatalf("slave->master changed bytes:\n got %x\nwant %x", got, want)
	}
	// No echo: nothing written to the master comes back out of it.
	p.Write([]byte("echo?\r\n"))
	p.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
	if n, err := p.Read(make([]byte, 64)); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("master read %d bytes (%v): the pty echoes", n, err)
	}
}

func TestLinkCreatedReplacedAndRemoved(t *testing.T) {
	link := filepath.Join(t.TempDir(), "ttySIM")
	if err := os.Symlink("/dev/pts/does-not-exist", link); err != nil {
		t.Fatal(err)
	}
	p, err := Create(link)
	if err != nil {
		t.Fatalf("stale symlink not replaced: %v", err)
	}
	if dst, err := os.Readlink(link); err != nil || dst != p.Name() {
		t.Fatalf("link -> %q (%v), want %q", dst, err, p.Name())
	}
	if p.Link() != link {
		t.Fatalf("Link() = %q", p.Link())
	}
	s := testsupport.OpenSlave(t, link)
	p.Write([]byte{0, 1, 2})
	if got := readFull(t, s, 3); !bytes.Equal(got, []byte{0, 1, 2}) {
		t.Fatalf("via link got %x", got)
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if err := p.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if _, err := os.Lstat(link); !os.IsNotExist(err) {
		t.Fatalf("link still there after Close: %v", err)
	}
}

func TestLinkRefusesRegularFile(t *testing.T) {
	link := filepath.Join(t.TempDir(), "data.csv")
	os.WriteFile(link, []byte("keep me"), 0o644)
	p, err := Create(link)
	if err == nil {
		p.Close()
		t.Fatal("Create overwrote a regular file")
	}
	if !errors.Is(err, ErrNotSymlink) {
		t.Fatalf("err = %v, want ErrNotSymlink", err)
	}
	want := "failed to create link " + link + ": " + link + " exists and is not a symlink (it is never overwritten); remove it or choose another path"
	if err.Error() != want {
		t.Fatalf("err = %q\nwant %q", err, want)
	}
	if b, _ := os.ReadFile(link); string(b) != "keep me" {
		t.Fatalf("file changed: %q", b)
	}
}

func TestCloseUnblocksReadAndHangsUpReader(t *testing.T) {
	p, err := Create("")
	if err != nil {
		t.Fatal(err)
	}
	s := testsupport.OpenSlave(t, p.Name())
	done := make(chan error, 1)
	go func() {
		_, err := p.Read(make([]byte, 10))
		done <- err
	}()
	time.Sleep(50 * time.Millisecond)
	p.Close()
	select {
	case err := <-done:
		if !errors.Is(err, os.ErrClosed) {
			t.Fatalf("Read after Close: %v, want os.ErrClosed", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not unblock Read")
	}
	s.SetReadDeadline(time.Now().Add(5 * time.Second))
	if n, err := s.Read(make([]byte, 10)); err == nil && n > 0 {
		t.Fatalf("slave still readable after Close: %d bytes", n)
	}
}

func TestBufferedCountsUnreadBytes(t *testing.T) {
	p, err := Create("")
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	p.Write(make([]byte, 1000))
	var n int
	for i := 0; i < 100; i++ { // the kernel moves bytes to the slave asynchronously
		if n, _ = p.Buffered(); n == 1000 {
			break
		}
		time.Sleep(time.Millisecond)
	}
	if n != 1000 {
		t.Fatalf("Buffered = %d, want 1000", n)
	}
	s := testsupport.OpenSlave(t, p.Name())
	readFull(t, s, 1000)
	if n, _ = p.Buffered(); n != 0 {
		t.Fatalf("Buffered after read = %d, want 0", n)
	}
}

func TestWriteDeadlineWhenNobodyReads(t *testing.T) {
	p, err := Create("")
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	p.SetWriteDeadline(time.Now().Add(200 * time.Millisecond))
	buf := make([]byte, 4096)
	total := 0
	for i := 0; i < 1000; i++ { // at most 4 MiB; the kernel holds far less
		n, err := p.Write(buf)
		total += n
		if err != nil {
			if !errors.Is(err, os.ErrDeadlineExceeded) {
				t.Fatalf("write: %v", err)
			}
			t.Logf("writes blocked after %d unread bytes", total)
			return
		}
	}
	t.Fatalf("wrote %d bytes with no reader and never blocked", total)
}

// TestSecondPortOnSameLinkRefused: a second Create on a link path in use
// fails with the holder's pid and leaves the first one's link alone; a
// stale lock file (its holder died) does not block anyone.
func TestSecondPortOnSameLinkRefused(t *testing.T) {
	link := filepath.Join(t.TempDir(), "ttyESP")
	p1, err := Create(link)
	if err != nil {
		t.Fatal(err)
	}
	p2, err := Create(link)
	var inUse *InUseError
	if err == nil {
		p2.Close()
		t.Fatal("a second Create took over the link")
	}
	if !errors.As(err, &inUse) || !errors.Is(err, ErrInUse) || inUse.Pid != os.Getpid() {
		t.Fatalf("err = %v, want an InUseError naming pid %d", err, os.Getpid())
	}
	want := link + " is in use by another program (pid " + strconv.Itoa(os.Getpid()) + "): stop it first, or choose another path"
	if err.Error() != want {
		t.Errorf("err = %q\nwant %q", err, want)
	}
	if dst, err := os.Readlink(link); err != nil || dst != p1.Name() {
		t.Fatalf("first port's link -> %q (%v), want %q", dst, err, p1.Name())
	}
	p1.Close()
	if _, err := os.Stat(link + ".lock"); !os.IsNotExist(err) {
		t.Errorf("lock file left after Close: %v", err)
	}
	os.WriteFile(link+".lock", []byte("99999\n"), 0o644) // left by a killed process: not locked
	p3, err := Create(link)
	if err != nil {
		t.Fatalf("stale lock file blocked Create: %v", err)
	}
	p3.Close()
}

func TestLinkInMissingDirectorySaysSo(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "nope")
	link := filepath.Join(dir, "ttyX")
	p, err := Create(link)
	if err == nil {
		p.Close()
		t.Fatal("Create made a link in a directory that does not exist")
	}
	if want := "cannot make " + link + ": the directory " + dir + " does not exist"; !strings.Contains(err.Error(), want) {
		t.Fatalf("err = %q, want it to contain %q", err, want)
	}
}
