package capture

import (
	"os"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// BenchmarkPtyFloor is the ceiling under BenchmarkPtyThroughput: the same
// writes into the same kind of pty, read by a bare loop (a non-blocking
// *os.File in the poller, 64 KiB reads) that decodes nothing. What
// capture costs is the difference; what the pty itself allows is this.
func BenchmarkPtyFloor(b *testing.B) {
	batch := counterFrames(0, 2048, 256, 1)
	p := newPort(b)
	f, err := os.OpenFile(p.Name(), os.O_RDWR|syscall.O_NOCTTY|syscall.O_NONBLOCK, 0)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	var got atomic.Int64
	go func() {
		buf := make([]byte, readBufSize)
		for {
			n, err := f.Read(buf)
			if err != nil {
				return
			}
			got.Add(int64(n))
		}
	}()
	b.SetBytes(int64(len(batch)))
	b.ResetTimer()
	for range b.N {
		for off := 0; off < len(batch); off += 64 << 10 {
			if _, err := p.Write(batch[off:min(off+64<<10, len(batch))]); err != nil {
				b.Fatal(err)
			}
		}
	}
	want := int64(b.N) * int64(len(batch))
	for deadline := time.Now().Add(30 * time.Second); got.Load() < want; {
		if time.Now().After(deadline) {
			b.Fatalf("read %d bytes, want %d", got.Load(), want)
		}
		time.Sleep(100 * time.Microsecond)
	}
}
