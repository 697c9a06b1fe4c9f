package wsclient

import (
	"math/rand/v2"
	"time"
)

// Backoff is the reconnect delay: it doubles from Min to Max, each delay
// drawn uniformly from [d/2, d] ("equal jitter") so that many clients that
// lost the same server do not come back in step. Not safe for concurrent
// use.
type Backoff struct {
	Min, Max time.Duration
	cur      time.Duration
	rnd      func() float64 // [0,1); rand.Float64 when nil (tests set it)
}

// Next returns the delay before the next attempt and doubles the base.
func (b *Backoff) Next() time.Duration {
	if b.cur < b.Min {
		b.cur = b.Min
	}
	r := rand.Float64
	if b.rnd != nil {
		r = b.rnd
	}
	d := b.cur/2 + time.Duration(r()*float64(b.cur/2))
	b.cur = min(b.cur*2, b.Max)
	return d
}

// Reset starts again from Min, after a healthy connection.
func (b *Backoff) Reset() { b.cur = b.Min }
