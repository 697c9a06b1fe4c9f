//go:build linux

package main

import (
	"context"
	"encoding/binary"
	"sync/atomic"
	"time"

	"github.com/wsbridge/wsbridge/internal/adcsim"
	"github.com/wsbridge/wsbridge/internal/frame"
)

// boardConfig is board i's simulated ADC: a counter at the bench's rate,
// i16 mono, frames of c.frame samples (the reference firmware's 256).
func boardConfig(c *config, i int) adcsim.Config {
	cfg := adcsim.DefaultConfig()
	cfg.Signal, cfg.Rate, cfg.SampleType, cfg.FrameSamples = "counter", c.rate, "i16", c.frame
	cfg.Seed = uint64(i + 1)
	return cfg
}

func newTally(c *config) *tally {
	from := nowUS() + uint64(c.warmup.Microseconds())
	return &tally{from: from, to: from + uint64(c.duration.Microseconds())}
}

// stamp is the time a frame is made, counting frames made in the window.
func (t *tally) stamp(made *atomic.Uint64) uint64 {
	us := nowUS()
	if us >= t.from && us < t.to {
		made.Add(1)
	}
	return us
}

// stampPacket sets a data packet's t_dev_us and CRC in place.
func stampPacket(pkt []byte, us uint64) []byte {
	binary.LittleEndian.PutUint64(pkt[frame.PrefixSize+4:], us)
	n := len(pkt) - frame.CRCSize
	binary.LittleEndian.PutUint32(pkt[n:], frame.Checksum(pkt[:n]))
	return pkt
}

// measure waits out the warm-up, then measures the hub's and the bench's
// CPU over the window, and the hub's peak RSS.
func measure(ctx context.Context, r *result, pid int, t *tally) {
	sleepUntil(ctx, t.from)
	hub, self := proc{pid}, "/proc/self/stat"
	h0, s0, w0 := hub.cpu(), cpuOf(self), time.Now()
	sleepUntil(ctx, t.to)
	wall := time.Since(w0)
	r.hubCPU = 100 * float64(hub.cpu()-h0) / float64(wall)
	r.benchCPU = 100 * float64(cpuOf(self)-s0) / float64(wall)
	r.hubRSS = hub.rssMB()
}

func sleepUntil(ctx context.Context, us uint64) {
	d := time.Duration(int64(us)-int64(nowUS())) * time.Microsecond
	if d <= 0 {
		return
	}
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}
