package frame

import (
	"math"
	"slices"
	"time"
)

// How the TextDecoder measures and announces the rate of a text stream
// (see docs/capture.md, "Text input").
const (
	// RateWindow is the span of line arrivals each estimate is made over
	// (at least RateMinLines lines): the first announcement comes once a
	// stream has run this long.
	RateWindow   = 2 * time.Second
	RateMinLines = 10
	// RateTolerance and RateHold: the announced rate changes only when
	// the estimate stays more than RateTolerance (a fraction) away from it
	// for RateHold. RateHold is longer than RateWindow, so that one pause
	// or stall, which skews every window that contains it, cannot do it.
	RateTolerance = 0.02
	RateHold      = 3 * time.Second
	// RatePause: no line for this long (or 20 periods of the announced
	// rate, if longer) is a pause, not a rate: the estimate starts over.
	RatePause = 1500 * time.Millisecond

	rateCheckEvery = 100 * time.Millisecond // how often the estimate is compared
	ratePointGap   = time.Millisecond       // arrivals closer than this share one point
)

// ratePoint says that n lines had arrived by time t (ns from the tracker's base).
type ratePoint struct {
	t int64
	n float64
}

// rateTracker estimates a line rate from arrivals and decides when to
// announce it. It keeps the arrivals of the last RateWindow (at least
// RateMinLines lines), at most one point per ratePointGap, and fits
// lines = rate*time + c by least squares: a read that brings a burst of
// lines, or a late one, moves a point, not the slope.
type rateTracker struct {
	base      time.Time
	pts       []ratePoint // oldest first; pts[head:] are live
	head      int
	announced uint32
	off       time.Time // when the estimate first left the tolerance; zero while within
	lastCheck time.Time

	delays, sorted []float64   // scratch for estimate
	sel            []ratePoint // scratch for estimate
}

// reset forgets the arrivals (after a pause or a reopen); the
// announcement stays.
func (r *rateTracker) reset() {
	r.pts, r.head, r.off = r.pts[:0], 0, time.Time{}
}

// add records that lines lines had arrived by now.
func (r *rateTracker) add(now time.Time, lines uint64) {
	if r.base.IsZero() {
		r.base = now
	}
	t := int64(now.Sub(r.base))
	if live := r.pts[r.head:]; len(live) > 0 {
		last := &live[len(live)-1]
		if time.Duration(t-last.t) > r.pause() {
			r.reset()
		} else if time.Duration(t-last.t) < ratePointGap {
			last.t, last.n = t, float64(lines)
			return
		}
	}
	r.pts = append(r.pts, ratePoint{t, float64(lines)})
	// Keep the shortest tail that still spans RateWindow and RateMinLines.
	for len(r.pts)-r.head > 2 {
		second, last := r.pts[r.head+1], r.pts[len(r.pts)-1]
		if time.Duration(last.t-second.t) < RateWindow || last.n-second.n < RateMinLines {
			break
		}
		r.head++
	}
	if r.head > len(r.pts)/2 && r.head > 64 { // compact
		r.pts = append(r.pts[:0], r.pts[r.head:]...)
		r.head = 0
	}
}

// rough is the rate over the live points, or 0 until they span 200 ms and
// 10 lines: good enough to date the lines of one read, never announced.
func (r *rateTracker) rough() float64 {
	p := r.pts[r.head:]
	if len(p) < 2 {
		return 0
	}
	dt, dn := time.Duration(p[len(p)-1].t-p[0].t), p[len(p)-1].n-p[0].n
	if dt < 200*time.Millisecond || dn < RateMinLines {
		return 0
	}
	return dn / dt.Seconds()
}

func (r *rateTracker) pause() time.Duration {
	if r.announced == 0 {
		return RatePause
	}
	return max(RatePause, 20*time.Second/time.Duration(r.announced))
}

// estimate fits the live points: the rate in lines/s and its standard
// error; ok is false until they span RateWindow and RateMinLines.
//
// Arrivals are late by a delay that is never negative and comes in
// stretches (USB batching, a host busy for a while), which a plain
// least-squares fit reads as a change of rate when a stretch falls near
// an end of the window. So the fit is refined twice over the less delayed
// half of the points (those furthest ahead of the previous fit), as clock
// synchronisation keeps the fastest round trips. The refinement sorts the
// points, so update asks for it only when the plain fit is not within the
// tolerance of the announcement.
func (r *rateTracker) estimate(refine bool) (rate, se float64, ok bool) {
	p := r.pts[r.head:]
	if len(p) < 3 || time.Duration(p[len(p)-1].t-p[0].t) < RateWindow || p[len(p)-1].n-p[0].n < RateMinLines {
		return 0, 0, false
	}
	rate, se, ok = fitRate(p)
	if !refine || !ok || len(p) < 16 {
		return rate, se, ok
	}
	for range 2 {
		r.delays = r.delays[:0]
		for _, q := range p {
			r.delays = append(r.delays, float64(q.t)/1e9-q.n/rate)
		}
		cut := median(append(r.sorted[:0], r.delays...))
		r.sel = r.sel[:0]
		for i, q := range p {
			if r.delays[i] <= cut {
				r.sel = append(r.sel, q)
			}
		}
		r2, se2, ok2 := fitRate(r.sel)
		if !ok2 {
			break
		}
		rate, se = r2, se2
	}
	return rate, se, true
}

// median returns the median of xs, reordering it.
func median(xs []float64) float64 {
	slices.Sort(xs)
	return xs[len(xs)/2]
}

// fitRate is the least-squares slope of lines over time through p, in
// lines/s, and its standard error.
func fitRate(p []ratePoint) (rate, se float64, ok bool) {
	if len(p) < 3 {
		return 0, 0, false
	}
	var mt, mn float64
	for _, q := range p {
		mt += float64(q.t) / 1e9
		mn += q.n
	}
	k := float64(len(p))
	mt, mn = mt/k, mn/k
	var stt, stn float64
	for _, q := range p {
		dt := float64(q.t)/1e9 - mt
		stt += dt * dt
		stn += dt * (q.n - mn)
	}
	if stt <= 0 || stn <= 0 {
		return 0, 0, false
	}
	rate = stn / stt
	var ss float64
	for _, q := range p {
		res := q.n - mn - rate*(float64(q.t)/1e9-mt)
		ss += res * res
	}
	return rate, math.Sqrt(ss / (k - 2) / stt), true
}

// update compares the estimate with the announcement (at most every
// rateCheckEvery) and returns the rate to announce when it should change:
// the first time an estimate is ready, and after the estimate has stayed
// more than RateTolerance away for RateHold.
func (r *rateTracker) update(now time.Time) (rate uint32, changed bool) {
	if now.Sub(r.lastCheck) < rateCheckEvery {
		return r.announced, false
	}
	r.lastCheck = now
	est, se, ok := r.estimate(false)
	if ok && !r.within(est) {
		est, se, ok = r.estimate(true)
	}
	if !ok || r.within(est) {
		r.off = time.Time{}
		return r.announced, false
	}
	if r.announced != 0 {
		if r.off.IsZero() {
			r.off = now
		}
		if now.Sub(r.off) < RateHold {
			return r.announced, false
		}
	}
	r.announced, r.off = simplestRate(est, 3*se), time.Time{}
	return r.announced, true
}

// within reports whether est is within RateTolerance of the announcement.
func (r *rateTracker) within(est float64) bool {
	return r.announced != 0 && math.Abs(est-float64(r.announced)) <= RateTolerance*float64(r.announced)
}

// rateSnap is the least uncertainty simplestRate allows an estimate: a
// stream measured at 15990 Hz or 1001 Hz on a busy host is announced as
// 16000 or 1000 (a crystal-timed rate is within 0.01% of its value).
const rateSnap = 1e-3

// simplestRate rounds an estimate to the value with the fewest
// significant digits within its uncertainty (margin, at least ±0.5 Hz and
// rateSnap of it, at most RateTolerance/4 of it), the closest such value to est: 999.8 ±
// 0.3 is 1000, 15991 ± 17 is 16000, but 997.3 ± 0.1 stays 997. Rates
// below 1 Hz are 0 (unknown).
func simplestRate(est, margin float64) uint32 {
	if !(est >= 0.5) || math.IsInf(est, 0) {
		return 0
	}
	margin = math.Min(math.Max(margin, math.Max(0.5, est*rateSnap)), math.Max(0.5, est*RateTolerance/4))
	lo, hi := est-margin, est+margin
	for step := math.Pow(10, math.Floor(math.Log10(hi))); step >= 1; step /= 10 {
		c := math.Round(est/step) * step
		if c < lo || c > hi {
			c = math.Ceil(lo/step) * step
		}
		if c >= lo && c <= hi && c >= 1 {
			return uint32(math.Min(c, math.MaxUint32))
		}
	}
	return uint32(math.Min(math.Max(1, math.Round(est)), math.MaxUint32))
}
