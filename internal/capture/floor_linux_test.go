package capture

import (
	"fmt"
	"os"
	"sync/atomic"
	"syscall"
	"testing"
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
	want := int64(b.N) * int64(len(batch))
	feed(b, p, batch, func() (bool, string) {
		return got.Load() >= want, fmt.Sprintf("read %d bytes, want %d", got.Load(), want)
	})
}
