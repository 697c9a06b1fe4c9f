package sink

import (
	"math/rand/v2"
	"time"
)

// backoff is the reconnect delay: it doubles from min to max, each delay
// drawn uniformly from [d/2, d] ("equal jitter") so that many sinks that
// lost the same server do not come back in step. Not safe for concurrent use.
type backoff struct {
	min, max time.Duration
	cur      time.Duration
	rnd      func() float64 // [0,1); rand.Float64 by default
}

// next returns the delay before the next attempt and doubles the base.
func (b *backoff) next() time.Duration {
	if b.cur < b.min {
		b.cur = b.min
	}
	r := rand.Float64
	if b.rnd != nil {
		r = b.rnd
	}
	d := b.cur/2 + time.Duration(r()*float64(b.cur/2))
	b.cur = min(b.cur*2, b.max)
	return d
}

// reset starts again from min, after a healthy connection.
func (b *backoff) reset() { b.cur = b.min }
