package procs

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/wsbridge/wsbridge/internal/periodic"
)

// Auto is the adaptive setting, the default.
const Auto = "auto"

// Parse checks spec: Auto, or a count of at least 1 (0 means Auto).
func Parse(spec string) (n int, err error) {
	if spec == Auto || spec == "" {
		return 0, nil
	}
	n, err = strconv.Atoi(spec)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("want %s or a number of CPUs (1 or more)", Auto)
	}
	return n, nil
}

// period is how often Auto samples the CPU time: short, so that a burst
// gets every CPU before the history fills (calm counts these periods).
const period = 250 * time.Millisecond

// policy decides GOMAXPROCS from the CPU the process used in each
// period, in cores (1.0 = one core busy for the whole period).
type policy struct {
	max     int     // GOMAXPROCS when busy: the runtime's own value at start
	raise   float64 // at or above this load, go to max
	lower   float64 // below this load for calm periods in a row, go to 1
	calm    int
	cur     int
	quietly int // periods in a row below lower
}

func newPolicy(max int) *policy {
	return &policy{max: max, raise: 0.3, lower: 0.1, calm: 40, cur: 1}
}

// next returns GOMAXPROCS for the next period, given the last one's load.
func (p *policy) next(load float64) int {
	switch {
	case load >= p.raise:
		p.cur, p.quietly = p.max, 0
	case load < p.lower && p.cur > 1:
		if p.quietly++; p.quietly >= p.calm {
			p.cur, p.quietly = 1, 0
		}
	default:
		p.quietly = 0
	}
	return p.cur
}

// mu serialises Adapt calls: GOMAXPROCS belongs to the whole process, so
// only one adapter runs at a time (a second one, as in tests that run two
// servers in one process, leaves the setting to the first).
var mu sync.Mutex

// Adapt applies spec until ctx ends, then restores GOMAXPROCS and
// returns. Run it in its own goroutine. With a count it sets that count;
// with Auto it samples the process's CPU time every period and follows
// the policy above, logging each change at debug level.
func Adapt(ctx context.Context, spec string, log zerolog.Logger) {
	n, err := Parse(spec)
	if err != nil {
		log.Warn().Err(err).Msg("ignoring --procs")
		return
	}
	if !mu.TryLock() {
		return
	}
	defer mu.Unlock()
	orig := runtime.GOMAXPROCS(0)
	defer runtime.GOMAXPROCS(orig)
	switch {
	case n > 0:
		runtime.GOMAXPROCS(n)
		<-ctx.Done()
	case os.Getenv("GOMAXPROCS") != "":
		log.Debug().Str("GOMAXPROCS", os.Getenv("GOMAXPROCS")).Msg("--procs auto: GOMAXPROCS is set, leaving it")
	case orig > 1:
		follow(ctx, newPolicy(orig), period, log)
	}
}

// follow samples the CPU time every period and sets GOMAXPROCS as p says.
func follow(ctx context.Context, p *policy, period time.Duration, log zerolog.Logger) {
	last, ok := cpuTime()
	if !ok {
		return
	}
	runtime.GOMAXPROCS(p.cur)
	periodic.Every(ctx, period, nil, func() bool {
		now, _ := cpuTime()
		load := float64(now-last) / float64(period)
		last = now
		if want := p.next(load); want != runtime.GOMAXPROCS(0) {
			runtime.GOMAXPROCS(want)
			log.Debug().Int("gomaxprocs", want).Float64("load_cores", load).Msg("adapted GOMAXPROCS to the load")
		}
		return true
	})
}
