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
	"github.com/wsbridge/wsbridge/internal/procstat"
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

// period is how often Auto samples the CPU time and the scheduler: short,
// so that a burst gets every CPU before the history fills (calm counts
// these periods).
const period = 250 * time.Millisecond

// sample is what one period measured.
type sample struct {
	load float64 // CPU the process used, in cores (1.0 = one core busy for the whole period)
	wait float64 // how long the process's threads waited for a CPU, as a share of the period (0.25: 62.5 ms of 250, summed over threads)
}

// policy decides GOMAXPROCS from what each period measured. One P is
// cheaper per frame than several as long as it keeps up: every wake-up of
// a goroutine on a second P wakes a second thread. So serve goes to max
// only when one P is busy (raise) or its thread waits for a CPU (slow: other
// processes take the machine's CPUs, and a second thread gets serve a
// larger share of them), and back to one after calm periods in a row
// under lower.
type policy struct {
	max     int     // GOMAXPROCS when busy: the runtime's own value at start
	raise   float64 // at or above this load, go to max
	slow    float64 // threads waiting for a CPU this share of the period or more, slowN periods in a row: go to max
	slowN   int
	lower   float64 // below this load for calm periods in a row, go to 1
	calm    int
	cur     int
	quietly int // periods in a row below lower
	waited  int // periods in a row at or above slow
}

func newPolicy(max int) *policy {
	return &policy{max: max, raise: 0.6, slow: 0.25, slowN: 2, lower: 0.25, calm: 40, cur: 1}
}

// next returns GOMAXPROCS for the next period, given the last one.
func (p *policy) next(s sample) int {
	if s.wait >= p.slow {
		p.waited++
	} else {
		p.waited = 0
	}
	switch {
	case s.load >= p.raise || p.waited >= p.slowN:
		p.cur, p.quietly = p.max, 0
	case s.load < p.lower && p.cur > 1:
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

// follow samples the CPU time and the run-queue delay every period
// and sets GOMAXPROCS as p says.
func follow(ctx context.Context, p *policy, period time.Duration, log zerolog.Logger) {
	last, ok := cpuTime()
	if !ok {
		return
	}
	_, lastWait, _ := procstat.Sched(0) // zero elsewhere than Linux: the CPU time alone decides
	runtime.GOMAXPROCS(p.cur)
	periodic.Every(ctx, period, nil, func() bool {
		now, _ := cpuTime()
		_, wait, _ := procstat.Sched(0)
		s := sample{load: float64(now-last) / float64(period), wait: float64(wait-lastWait) / float64(period)}
		last, lastWait = now, wait
		if want := p.next(s); want != runtime.GOMAXPROCS(0) {
			runtime.GOMAXPROCS(want)
			log.Debug().Int("gomaxprocs", want).Float64("load_cores", s.load).Float64("wait_p99_s", s.wait).
				Msg("adapted GOMAXPROCS to the load")
		}
		return true
	})
}
