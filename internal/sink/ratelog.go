package sink

import (
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/wsbridge/wsbridge/internal/ratelimit"
)

// Rate limits of repeated log lines of one kind: a burst, then one a
// second, with the number suppressed in between.
const (
	logBurst = 10
	logEvery = time.Second
)

// logLimiter rate-limits log lines per kind (gap, duplicate, bad packet,
// ...) with a token bucket: a broken or hostile server that sends 100 000
// gap messages gets a few dozen lines, each saying how many like it were
// suppressed, not 20 MB of log. Safe for concurrent use.
type logLimiter struct {
	mu    sync.Mutex
	kinds map[string]*bucket
	now   func() time.Time
}

type bucket struct {
	ratelimit.Bucket
	suppressed int
	level      zerolog.Level
}

func newLogLimiter() *logLimiter {
	return &logLimiter{kinds: map[string]*bucket{}, now: time.Now}
}

// event returns a log event of level for kind, or nil (zerolog's no-op
// event) when the kind is over its rate; an event that follows suppressed
// ones carries "suppressed": N.
func (l *logLimiter) event(log zerolog.Logger, level zerolog.Level, kind string) *zerolog.Event {
	l.mu.Lock()
	now := l.now()
	b := l.kinds[kind]
	if b == nil {
		b = &bucket{Bucket: ratelimit.Bucket{Rate: 1 / logEvery.Seconds(), Burst: logBurst}}
		l.kinds[kind] = b
	}
	b.level = level
	if !b.Allow(now) {
		b.suppressed++
		l.mu.Unlock()
		return nil
	}
	n := b.suppressed
	b.suppressed = 0
	l.mu.Unlock()
	ev := log.WithLevel(level)
	if n > 0 {
		ev = ev.Int("suppressed", n)
	}
	return ev
}

// flush logs, for each kind with suppressed lines and none logged for
// quiet, how many were suppressed (the status loop calls it, and Run at
// exit with quiet 0).
func (l *logLimiter) flush(log zerolog.Logger, quiet time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	for kind, b := range l.kinds {
		if b.suppressed > 0 && now.Sub(b.Last()) >= quiet {
			log.WithLevel(b.level).Str("kind", kind).Int("suppressed", b.suppressed).
				Msgf("%d more %q messages were not logged (rate limit: %d, then 1 per %s); the summary counts them all",
					b.suppressed, kind, logBurst, logEvery)
			b.suppressed = 0
		}
	}
}
