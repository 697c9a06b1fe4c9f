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
	wait float64 // how long the process's threads waited for a CPU, as a share of the period (summed over threads)
}

// policy decides GOMAXPROCS from what each period measured. One P is
// cheaper per frame than several as long as it keeps up: every wake-up of
// a goroutine on a second P wakes a second thread. At one P, the demand
// (load + wait: the share of the period the thread ran or wanted to)
// says whether it keeps up: serve goes to max when one P is saturated
// (full, in one period) or nearly so (busy, busyN periods in a row: a
// spike, such as a garbage collection, does not count), whether from its
// own work or because other processes take the CPUs (a second thread
// then gets serve a larger share). At max, the wait is not a sign (two
// threads of serve wait for each other's CPU too): serve goes back to
// one P after calm periods in a row with a load under lower, which one
// P carries below busy. Raised again soon after (within backoff periods),
// it waits twice as long before the next try, up to calmMax; forget
// periods at one P forget that.
type policy struct {
	max        int     // GOMAXPROCS when busy: the runtime's own value at start
	full       float64 // at one P, a demand at or above this: go to max at once
	busy       float64 // at one P, a demand at or above this for busyN periods in a row: go to max
	busyN      int
	lower      float64 // at max, a load below this for calm periods in a row: go to 1
	calm       int
	calm0      int // calm's starting value
	calmMax    int
	backoff    int // raised again within this many periods of lowering: calm doubles
	forget     int // this many periods at one P: calm is calm0 again
	cur        int
	quietly    int // at max: periods in a row under lower
	busied     int // at one P: periods in a row at or above busy
	sinceLower int // periods at one P since the last lowering
}

func newPolicy(max int) *policy {
	return &policy{max: max, full: 0.95, busy: 0.7, busyN: 2, lower: 0.45,
		calm: 40, calm0: 40, calmMax: 640, backoff: 8, forget: 240, cur: 1, sinceLower: 240}
}

// next returns GOMAXPROCS for the next period, given the last one.
func (p *policy) next(s sample) int {
	if p.cur > 1 {
		if s.load >= p.lower {
			p.quietly = 0
		} else if p.quietly++; p.quietly >= p.calm {
			p.cur, p.quietly, p.sinceLower = 1, 0, 0
		}
		return p.cur
	}
	if p.sinceLower < p.forget {
		if p.sinceLower++; p.sinceLower == p.forget {
			p.calm = p.calm0
		}
	}
	d := s.load + s.wait
	if d >= p.busy {
		p.busied++
	} else {
		p.busied = 0
	}
	if d >= p.full || p.busied >= p.busyN {
		if p.sinceLower <= p.backoff {
			p.calm = min(2*p.calm, p.calmMax)
		}
		p.cur, p.busied = p.max, 0
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
