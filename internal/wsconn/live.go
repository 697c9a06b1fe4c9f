package wsconn

import (
	"context"
	"time"

	"github.com/wsbridge/wsbridge/internal/periodic"
)

// DeadAfter is how many ping intervals without a sign of life make a
// connection dead.
const DeadAfter = 2

// Watch checks lastSign every interval and returns when it is more than
// DeadAfter intervals old (dead, with how long it has been silent) or when
// ctx ends (alive). Signs of life are the caller's: a pong, even a late
// one queued behind frames the peer is still reading; a write that
// completed after waiting for the peer to make room.
func Watch(ctx context.Context, interval time.Duration, lastSign func() time.Time) (silent time.Duration, dead bool) {
	periodic.Every(ctx, interval, nil, func() bool {
		silent = time.Since(lastSign())
		dead = silent > DeadAfter*interval
		return !dead
	})
	return silent, dead
}

// Latest returns the latest of ts: the last sign of life among several.
func Latest(ts ...time.Time) time.Time {
	var l time.Time
	for _, t := range ts {
		if t.After(l) {
			l = t
		}
	}
	return l
}
