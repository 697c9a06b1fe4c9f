package capture

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/wsbridge/wsbridge/internal/frame"
)

type countHandler struct{ frames atomic.Uint64 }

func (h *countHandler) Packet(*frame.Packet) { h.frames.Add(1) }
func (h *countHandler) Event(Event)          {}

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
	b.SetBytes(int64(len(batch)))
	b.ResetTimer()
	for range b.N {
		for off := 0; off < len(batch); off += 64 << 10 {
			if _, err := p.Write(batch[off:min(off+64<<10, len(batch))]); err != nil {
				b.Fatal(err)
			}
		}
	}
	want := uint64(b.N) * framesPerBatch
	for deadline := time.Now().Add(30 * time.Second); h.frames.Load() < want; {
		if time.Now().After(deadline) {
			b.Fatalf("got %d frames, want %d; stats %+v", h.frames.Load(), want, c.Stats())
		}
		time.Sleep(100 * time.Microsecond)
	}
	b.StopTimer()
	if s := c.Stats(); s.NoiseBytes != 0 || s.CRCErrors != 0 {
		b.Fatalf("stats %+v", s)
	}
}
