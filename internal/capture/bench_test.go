package capture

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/wsbridge/wsbridge/internal/frame"
)

type countHandler struct{ frames atomic.Uint64 }

func (h *countHandler) Packet(*frame.Packet) { h.frames.Add(1) }
func (h *countHandler) Up(string)            {}
func (h *countHandler) Down(string)          {}

// BenchmarkPtyThroughput measures bytes/s from a pty writer through capture
// (read, COBS, CRC-32C, parse, sequence check) into a no-op handler.
func BenchmarkPtyThroughput(b *testing.B) {
	for _, size := range []struct {
		name           string
		count, chans   int
		framesPerBatch uint32
	}{
		{"256x1xu16", 256, 1, 2048},
		{"1024x2xu16", 1024, 2, 512},
	} {
		b.Run(size.name, func(b *testing.B) {
			batch := counterFrames(0, size.framesPerBatch, size.count, size.chans)
			benchThroughput(b, batch, uint64(size.framesPerBatch))
		})
	}
}

func benchThroughput(b *testing.B, batch []byte, framesPerBatch uint64) {
	p := newPort(b)
	c, err := New(Options{Port: p.Name(), Input: InputFrames, Log: zerolog.Nop()})
	if err != nil {
		b.Fatal(err)
	}
	c.list = func() ([]PortInfo, error) { return nil, nil }
	h := &countHandler{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx, h) }()
	defer func() { cancel(); <-done }()
	for !c.Stats().DeviceUp {
		time.Sleep(time.Millisecond)
	}
	want := uint64(b.N) * framesPerBatch
	feed(b, p, batch, func() (bool, string) {
		return h.frames.Load() >= want, fmt.Sprintf("got %d frames, want %d; stats %+v", h.frames.Load(), want, c.Stats())
	})
	b.StopTimer()
	if s := c.Stats(); s.NoiseBytes != 0 || s.CRCErrors != 0 {
		b.Fatalf("stats %+v", s)
	}
}

// feed times writing batch into p b.N times, in writes of 64 KiB, until
// done reports that the reader has it all (30 s at most; then it fails
// with done's description of what arrived).
func feed(b *testing.B, p io.Writer, batch []byte, done func() (bool, string)) {
	b.SetBytes(int64(len(batch)))
	b.ResetTimer()
	for range b.N {
		for off := 0; off < len(batch); off += 64 << 10 {
			if _, err := p.Write(batch[off:min(off+64<<10, len(batch))]); err != nil {
				b.Fatal(err)
			}
		}
	}
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Microsecond) {
		ok, what := done()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			b.Fatal(what)
		}
	}
}

// BenchmarkDetectNoise64K is auto detection's worst case: 64 KiB with no
// evidence, arriving in 4 KiB reads, each followed by a decision.
func BenchmarkDetectNoise64K(b *testing.B) {
	noise := make([]byte, hardBytes)
	r := rand.New(rand.NewPCG(1, 2))
	for i := range noise {
		noise[i] = byte(r.UintN(256))
	}
	t0 := time.Unix(0, 0)
	b.SetBytes(int64(len(noise)))
	for range b.N {
		var d detector
		for off := 0; off < len(noise); off += 4 << 10 {
			d.add(noise[off:off+4<<10], t0)
			if m, _ := d.decide(t0); m != "" && off+4<<10 < len(noise) {
				b.Fatalf("decided %q on noise at %d bytes", m, off+4<<10)
			}
		}
	}
}
