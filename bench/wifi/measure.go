//go:build linux

package main

import (
	"fmt"
	"slices"
	"strings"
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
	lat      []float32     // ms, frames received during the measured window
	received uint64        // frames received in the window
	holes    uint64        // frames of the window missing between frames received
	gapMsgs  uint64        // gap messages the hub sent (wsbridge)
	from, to uint64        // the window, bench µs
	drain    time.Duration // how long after it frames may still arrive
}

// sub follows one subscriber's stream. A frame counts once, whatever its
// order: MQTT QoS 1 resends what a cut connection left unacknowledged
// after newer frames, and such a frame arrived, late; one received again
// is not counted again.
type sub struct {
	t       *tally
	seen    map[uint32]bool // seqs of the window received
	lat     []float32
	gapMsgs uint64
}

// frame records one data frame (v1 packet) received now.
func (s *sub) frame(pkt []byte) {
	var p frame.Packet
	if frame.Parse(&p, pkt) != nil || p.Type != frame.TypeData {
		return
	}
	now, seq := nowUS(), p.Frame.Seq
	if p.Frame.TimeUS < s.t.from || p.Frame.TimeUS >= s.t.to || s.seen[seq] {
		return
	}
	if s.seen == nil {
		s.seen = make(map[uint32]bool)
	}
	s.seen[seq] = true
	s.lat = append(s.lat, float32(int64(now)-int64(p.Frame.TimeUS))/1000)
}

// done adds the subscriber's figures to the tally.
func (s *sub) done() {
	holes := uint64(0) // seqs never received between the first and the last of the window received
	if len(s.seen) > 0 {
		lo, hi := uint32(1<<32-1), uint32(0)
		for q := range s.seen {
			lo, hi = min(lo, q), max(hi, q)
		}
		holes = uint64(hi-lo+1) - uint64(len(s.seen))
	}
	s.t.mu.Lock()
	defer s.t.mu.Unlock()
	s.t.lat = append(s.t.lat, s.lat...)
	s.t.received += uint64(len(s.seen))
	s.t.holes += holes
	s.t.gapMsgs += s.gapMsgs
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
	holes, gapMsgs     uint64  // of the lost: holes inside the streams; gap messages the hub sent
	drain              time.Duration
	reconnects         uint64
	cuts               uint64 // --cut-every: times every board's link was reset
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
	r.expected, r.received = expected+r.adcDropped, t.received
	r.holes, r.gapMsgs, r.drain = t.holes, t.gapMsgs, t.drain
}

// lossNote says where frames went missing beyond the boards' own drops,
// "" if none did.
func (r *result) lossNote() string {
	lost := r.expected - min(r.received, r.expected)
	if lost <= r.adcDropped+r.overrun {
		return ""
	}
	told := fmt.Sprintf("serve sent its subscribers %d gap messages", r.gapMsgs)
	if strings.HasPrefix(r.system, "mosquitto") {
		told = "MQTT tells a subscriber nothing of what it did not get"
	}
	return fmt.Sprintf("%d boards, %s: of the %d frames lost, %d were holes between frames a subscriber received, the rest at the window's ends (not received within %s after it); %s",
		r.boards, r.system, lost, r.holes, r.drain, told)
}
