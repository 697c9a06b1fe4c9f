//go:build linux

package main

import (
	"math"
	"math/bits"
)

// hist is a log-linear latency histogram in microseconds: exact below 64 µs,
// then 32 buckets per power of two (about 3% resolution), up to 2^40 µs.
// It is merged across consumers and repetitions; max is kept exactly.
type hist struct {
	counts [subBuckets * 40]uint64
	n      uint64
	max    uint64
}

const (
	subBits    = 5
	subBuckets = 1 << subBits
	linearTop  = 2 * subBuckets // values below this have their own bucket
)

func bucketOf(v uint64) int {
	if v < linearTop {
		return int(v)
	}
	e := bits.Len64(v) - 1 - subBits // v >> e is in [32, 64)
	i := linearTop + (e-1)*subBuckets + int(v>>uint(e)) - subBuckets
	if i >= len(hist{}.counts) {
		i = len(hist{}.counts) - 1
	}
	return i
}

// lowOf is the smallest value of bucket i.
func lowOf(i int) uint64 {
	if i < linearTop {
		return uint64(i)
	}
	e := (i-linearTop)/subBuckets + 1
	m := uint64((i-linearTop)%subBuckets + subBuckets)
	return m << uint(e)
}

// midOf is the value a quantile in bucket i reports: its middle.
func midOf(i int) float64 {
	if i < linearTop {
		return float64(i)
	}
	return (float64(lowOf(i)) + float64(lowOf(i+1))) / 2
}

func (h *hist) add(v uint64) {
	h.counts[bucketOf(v)]++
	h.n++
	if v > h.max {
		h.max = v
	}
}

func (h *hist) merge(o *hist) {
	for i, c := range o.counts {
		h.counts[i] += c
	}
	h.n += o.n
	h.max = max(h.max, o.max)
}

// quantile returns the q-quantile (0..1) in µs, NaN if empty.
func (h *hist) quantile(q float64) float64 {
	if h.n == 0 {
		return math.NaN()
	}
	if q >= 1 {
		return float64(h.max)
	}
	rank := uint64(math.Ceil(q * float64(h.n)))
	rank = max(rank, 1)
	var acc uint64
	for i, c := range h.counts {
		acc += c
		if acc >= rank {
			return math.Min(midOf(i), float64(h.max))
		}
	}
	return float64(h.max)
}

// cdf returns points (value µs, fraction <= value) at each non-empty bucket.
func (h *hist) cdf() (xs, ys []float64) {
	var acc uint64
	for i, c := range h.counts {
		if c == 0 {
			continue
		}
		acc += c
		xs = append(xs, math.Min(float64(lowOf(i+1)), float64(h.max)))
		ys = append(ys, float64(acc)/float64(h.n))
	}
	return xs, ys
}
