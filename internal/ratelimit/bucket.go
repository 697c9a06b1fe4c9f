package ratelimit

import "time"

// Bucket lets through Burst events at once and Rate a second on average.
// The zero value with Rate and Burst set is full. Not safe for concurrent
// use: the caller's lock guards it.
type Bucket struct {
	Rate  float64 // tokens added per second
	Burst float64 // tokens it holds at most (and at first)

	tokens float64
	last   time.Time // the last Allow (zero: never)
}

// Allow reports whether an event at now may pass, and takes its token.
func (b *Bucket) Allow(now time.Time) bool {
	if b.last.IsZero() {
		b.tokens = b.Burst
	} else {
		b.tokens = min(b.Burst, b.tokens+now.Sub(b.last).Seconds()*b.Rate)
	}
	b.last = now
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

// Last is when Allow was last called, passed or not (zero: never).
func (b *Bucket) Last() time.Time { return b.last }
