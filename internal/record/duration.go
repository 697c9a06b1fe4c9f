package record

import (
	"math"
	"time"

	"github.com/wsbridge/wsbridge/internal/frame"
)

// durationClock measures how much of --duration a recording holds. At a
// known rate it counts sample instants, so that the recording ends on the
// exact sample (ceil(duration x rate) of them for a stream of one rate);
// across a change of rate it carries the time the earlier rate covered;
// frames of rate 0 (text input before its rate is measured) count by
// their device time. Owned by the track.
type durationClock struct {
	limit   float64 // seconds; 0: no limit
	done    float64 // seconds covered by runs that ended (another rate, rate 0)
	rate    uint32  // the current run's rate (0: none yet, or frames without a rate)
	samples uint64  // sample instants of the current run
	lastUS  uint64  // device time of the last frame without a rate
	unrated bool    // the current run is frames without a rate
}

func newDurationClock(d time.Duration) durationClock { return durationClock{limit: d.Seconds()} }

// take accounts for frame f and returns how many of its sample instants
// the recording keeps (all, or fewer for the one that completes it) and
// whether the duration is reached.
func (c *durationClock) take(f *frame.Frame) (n uint16, done bool) {
	if c.limit <= 0 {
		return f.Count, false
	}
	if f.Rate == 0 {
		if c.unrated {
			c.done += float64(f.TimeUS-c.lastUS) / 1e6
		} else {
			c.endRun()
			c.unrated = true
		}
		c.lastUS = f.TimeUS
		return f.Count, c.done >= c.limit
	}
	if c.unrated || f.Rate != c.rate {
		c.endRun()
		c.rate = f.Rate
	}
	want := uint64(math.Ceil((c.limit - c.done) * float64(f.Rate)))
	if c.samples+uint64(f.Count) < want {
		c.samples += uint64(f.Count)
		return f.Count, false
	}
	n = uint16(want - min(want, c.samples))
	c.samples += uint64(n)
	return n, true
}

// fill accounts for n sample instants written for a gap (--on-gap zero),
// at the current rate.
func (c *durationClock) fill(n int64) { c.samples += uint64(n) }

// endRun adds the time of the current run to what is done.
func (c *durationClock) endRun() {
	if c.rate > 0 {
		c.done += float64(c.samples) / float64(c.rate)
	}
	c.rate, c.samples, c.unrated = 0, 0, false
}
