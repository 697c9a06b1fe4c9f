//go:build linux

package main

import (
	"slices"
	"sync"
	"time"

	"github.com/wsbridge/wsbridge/internal/procstat"

	"github.com/wsbridge/wsbridge/internal/frame"
)

// clock is the bench's one clock: µs since the bench started. Boards stamp
// frames with it when they make them; subscribers subtract.
var epoch = time.Now()

func nowUS() uint64 { return uint64(time.Since(epoch).Microseconds()) }

// tally is what the subscribers of one run saw.
type tally struct {
	mu       sync.Mutex
	lat      []float32 // ms, frames received during the measured window
	received uint64    // frames received in the window
	gapped   uint64    // frames missing (seq gaps), in the window
	dups     uint64
	from, to uint64 // the window, bench µs
}

// sub follows one subscriber's stream.
type sub struct {
	t        *tally
	next     uint32
	started  bool
	lat      []float32
	received uint64
	gapped   uint64
	dups     uint64
}

// frame records one data frame (v1 packet) received now.
func (s *sub) frame(pkt []byte) {
	var p frame.Packet
	if frame.Parse(&p, pkt) != nil || p.Type != frame.TypeData {
		return
	}
	now := nowUS()
	in := p.Frame.TimeUS >= s.t.from && p.Frame.TimeUS < s.t.to
	switch {
	case !s.started:
		s.started = true
	case p.Frame.Seq == s.next:
	case int32(p.Frame.Seq-s.next) > 0:
		if in {
			s.gapped += uint64(p.Frame.Seq - s.next)
		}
	default:
		s.dups++
		return
	}
	s.next = p.Frame.Seq + 1
	if in {
		s.received++
		s.lat = append(s.lat, float32(int64(now)-int64(p.Frame.TimeUS))/1000)
	}
}

// done adds the subscriber's figures to the tally.
func (s *sub) done() {
	s.t.mu.Lock()
	defer s.t.mu.Unlock()
	s.t.lat = append(s.t.lat, s.lat...)
	s.t.received += s.received
	s.t.gapped += s.gapped
	s.t.dups += s.dups
}

func percentile(sorted []float32, p float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	i := int(p * float64(len(sorted)-1))
	return float64(sorted[i])
}

// cpuOf is the CPU time of every thread of pid (0: this process).
func cpuOf(pid int) time.Duration {
	cpu, _, _ := procstat.Sched(pid)
	return cpu
}

// result is one system's figures.
type result struct {
	system             string
	boards             int
	err                string
	hubCPU             float64 // % of one core over the window
	hubRSS             float64 // MB, peak
	benchCPU           float64 // % of one core: boards and subscribers
	p50, p99, max      float64 // ms
	expected, received uint64  // frames in the window, all subscribers (expected includes dropped)
	adcDropped         uint64  // frames the boards' ADCs dropped in the window: they could not hand them on for a second
	overrun            uint64  // frames the boards' rings overwrote unsent in the window (wsbridge)
	gapped, dups       uint64
	reconnects         uint64
	note               string
	runs               string // with --reps: every run's hub CPU and p50
}

func (r *result) lossPct() float64 {
	if r.expected == 0 {
		return 0
	}
	return 100 * float64(r.expected-min(r.received, r.expected)) / float64(r.expected)
}

// finish fills the latency and loss figures from a tally; expected is the
// frames made in the window times the subscribers.
func (r *result) finish(t *tally, expected uint64) {
	slices.Sort(t.lat)
	r.p50, r.p99 = percentile(t.lat, 0.5), percentile(t.lat, 0.99)
	if len(t.lat) > 0 {
		r.max = float64(t.lat[len(t.lat)-1])
	}
	// Overwritten ring frames were made and stamped (in expected already);
	// ADC drops were not.
	r.expected, r.received, r.gapped, r.dups = expected+r.adcDropped, t.received, t.gapped, t.dups
}
