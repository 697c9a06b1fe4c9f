package sink

import (
	"fmt"
	"strings"
	"sync"
	"time"
)

// SeqRange is an inclusive range of frame sequence numbers of one epoch.
type SeqRange struct {
	From  uint32 `json:"from"`
	To    uint32 `json:"to"`
	Epoch string `json:"epoch,omitempty"` // "" when the server sent none
}

func (r SeqRange) String() string {
	if r.From == r.To {
		return fmt.Sprint(r.From)
	}
	return fmt.Sprintf("%d..%d", r.From, r.To)
}

// maxRanges is how many separate ranges one report lists.
const maxRanges = 32

// dropReport describes the frames dropped in one incident: a run of drops
// with less than the quiet time between them.
type dropReport struct {
	Frames, Samples uint64
	Ranges          []SeqRange // sorted and merged, at most maxRanges
	epochs          []string   // the epochs of Ranges, in order of appearance
	MoreRanges      int        // ranges not listed
	T0, T1          uint64     // device time of the first and last dropped sample, µs
	Start, End      time.Time
}

// RangeText lists the ranges: "100..199, 250..260 (+3 more ranges)".
func (r *dropReport) RangeText() string {
	parts := make([]string, len(r.Ranges))
	for i, x := range r.Ranges {
		parts[i] = x.String()
	}
	s := strings.Join(parts, ", ")
	if r.MoreRanges > 0 {
		s += fmt.Sprintf(" (+%d more ranges)", r.MoreRanges)
	}
	return s
}

// incident accumulates drops; the queue's mutex guards it.
type incident struct {
	cur                       *dropReport
	announced                 bool
	last                      time.Time
	totalFrames, totalSamples uint64
}

// add counts a dropped chunk; only frames count (a dropped reply line
// carries no samples).
func (in *incident) add(c *chunk, now time.Time) {
	if !c.isFrame {
		return
	}
	in.totalFrames++
	in.totalSamples += c.samples
	if in.cur == nil {
		in.cur = &dropReport{Start: now, T0: c.t0}
		in.announced = false
	}
	r := in.cur
	r.Frames++
	r.Samples += c.samples
	r.T1, r.End, in.last = c.t1, now, now
	n := len(r.Ranges)
	switch {
	case n > 0 && r.Ranges[n-1].To+1 == c.seq && r.Ranges[n-1].Epoch == c.epoch: // the usual case
		r.Ranges[n-1].To = c.seq
	case n < maxRanges:
		r.Ranges = mergeRange(r.Ranges, SeqRange{c.seq, c.seq, c.epoch}, r.epochOrder)
	default:
		r.MoreRanges++
	}
}

// epochOrder is e's place among the epochs of this report, in the order
// they appeared.
func (r *dropReport) epochOrder(e string) int {
	for i, x := range r.epochs {
		if x == e {
			return i
		}
	}
	r.epochs = append(r.epochs, e)
	return len(r.epochs) - 1
}

// report returns the current incident once when it starts, and again when
// no drop happened for quiet (or final is set), which ends it.
func (in *incident) report(now time.Time, quiet time.Duration, final bool) (started, ended *dropReport) {
	if in.cur == nil {
		return nil, nil
	}
	if !in.announced {
		in.announced = true
		cp := *in.cur
		cp.Ranges = append([]SeqRange(nil), in.cur.Ranges...)
		started = &cp
	}
	if final || now.Sub(in.last) >= quiet {
		ended, in.cur = in.cur, nil
	}
	return started, ended
}

// Chunk buffers come in two classes, so that a frame rendering to a few
// bytes (1 sample, 0 samples in raw) does not hold 4 KiB while queued.
const (
	smallChunk = 256
	largeChunk = 4096
)

// chunkPools recycle chunks with their buffers, small and large: one
// chunk per frame would otherwise be garbage.
var chunkPools = [2]sync.Pool{
	{New: func() any { return &chunk{data: make([]byte, 0, smallChunk)} }},
	{New: func() any { return &chunk{data: make([]byte, 0, largeChunk)} }},
}

// newChunk is an empty chunk whose buffer suits about size bytes (a
// larger rendering grows it, as append does).
func newChunk(size int) *chunk {
	if size <= smallChunk {
		return chunkPools[0].Get().(*chunk)
	}
	return chunkPools[1].Get().(*chunk)
}

// release returns c to the pool of its buffer's class, emptied (a buffer
// over 1 MiB is let go). c must not be used afterwards.
func (c *chunk) release() {
	data := c.data[:0]
	if cap(data) > 1<<20 {
		data = nil
	}
	*c = chunk{data: data}
	if cap(data) < largeChunk {
		chunkPools[0].Put(c)
		return
	}
	chunkPools[1].Put(c)
}
