//go:build linux

package main

import (
	"context"
	"encoding/binary"
	"sync/atomic"
	"time"

	"github.com/wsbridge/wsbridge/internal/procstat"

	"github.com/wsbridge/wsbridge/internal/adcsim"
	"github.com/wsbridge/wsbridge/internal/frame"
	"github.com/wsbridge/wsbridge/internal/periodic"
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
	return &tally{from: from, to: from + uint64(c.duration.Microseconds()), drain: drain(c)}
}

// stamper dates one board's frames on the bench clock by when their last
// sample was taken: the board's own clock (t_dev_us) set against the bench
// clock by the earliest any frame was made (the simulated ADC hands most
// frames on on time). So a frame held up on the board (a blocked publish,
// a full ring) is late by that much; frames dated in the window are
// counted in made.
type stamper struct {
	t      *tally
	made   *atomic.Uint64
	offset int64 // bench µs minus device µs; 0 before the first frame
	set    bool
}

func (s *stamper) stamp(f *frame.Frame) uint64 {
	end := f.TimeUS + uint64(f.Count)*1_000_000/uint64(max(f.Rate, 1))
	if off := int64(nowUS()) - int64(end); !s.set || off < s.offset {
		s.offset, s.set = off, true
	}
	us := uint64(int64(end) + s.offset)
	if us >= s.t.from && us < s.t.to {
		s.made.Add(1)
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
// CPU over the window, the frames the boards' ADCs dropped meanwhile
// (drops: their running total), and the hub's peak RSS.
func measure(ctx context.Context, r *result, pid int, t *tally, drops func() (adc, overrun uint64)) {
	sleepUntil(ctx, t.from)
	a0, o0 := drops()
	h0, s0, w0 := cpuOf(pid), cpuOf(0), time.Now()
	sleepUntil(ctx, t.to)
	a1, o1 := drops()
	r.adcDropped, r.overrun = a1-a0, o1-o0
	wall := time.Since(w0)
	r.hubCPU = 100 * float64(cpuOf(pid)-h0) / float64(wall)
	r.benchCPU = 100 * float64(cpuOf(0)-s0) / float64(wall)
	_, hwm, _ := procstat.Mem(pid)
	r.hubRSS = float64(hwm) / 1024
}

func sleepUntil(ctx context.Context, us uint64) {
	d := time.Duration(int64(us)-int64(nowUS())) * time.Microsecond
	if d <= 0 {
		return
	}
	periodic.Sleep(ctx, d)
}
