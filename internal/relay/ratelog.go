package relay

import "time"

// logEvery is how often a repeated kind of warning may be logged.
const logEvery = time.Second

// limiter lets one log line of a kind through per logEvery and counts the
// ones it holds back, so that a device spewing out-of-order frames costs
// a line a second, not a line a frame; the next line says how many were
// suppressed. Not safe for concurrent use (the channel's lock guards it).
type limiter struct {
	next       time.Time
	suppressed uint64
}

// allow reports whether to log now, and how many lines were held back
// since the last one logged.
func (l *limiter) allow(now time.Time) (ok bool, suppressed uint64) {
	if now.Before(l.next) {
		l.suppressed++
		return false, 0
	}
	l.next = now.Add(logEvery)
	suppressed, l.suppressed = l.suppressed, 0
	return true, suppressed
}
