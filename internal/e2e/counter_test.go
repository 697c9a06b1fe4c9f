package e2e

import (
	"bytes"
	"fmt"
	"strconv"
	"sync"
)

// counterCheck follows the simulator's counter signal (i32: the sample at
// running index i on channel c is int32(i+c)) line by line or frame by
// frame, and records every index it skipped, every index it saw twice and
// every line that is not the counter. It reads the sink's comment lines
// ("# gap ...", "# restart ...") too: a hole in the data right after one is
// announced, any other hole is not. Safe for concurrent use.
type counterCheck struct {
	chans int

	mu          sync.Mutex
	started     bool
	first       int64 // index of the first sample instant seen
	next        int64 // index expected next
	samples     int64 // sample instants seen
	lost        spans // indexes skipped
	unannounced spans // the holes no gap line came right before
	dups        int64 // sample instants seen again (index < next)
	gapLines    int   // "# gap" lines read
	announce    bool  // a gap or restart line came since the last sample instant
	bad         []string
	nbad        int
}

func newCounterCheck(chans int) *counterCheck { return &counterCheck{chans: chans} }

// channels checks every sample instant of a JSON frame's samples
// ([channel][instant]), in order.
func (c *counterCheck) channels(samples [][]int64) {
	vals := make([]int64, len(samples))
	for i := range samples[0] {
		for ch := range vals {
			vals[ch] = samples[ch][i]
		}
		c.instant(vals)
	}
}

// instant checks one sample instant whose channel values are vals.
func (c *counterCheck) instant(vals []int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(vals) != c.chans {
		c.badLocked(fmt.Sprintf("%d channels, want %d: %v", len(vals), c.chans, vals))
		return
	}
	i := vals[0]
	for ch, v := range vals {
		if int32(v) != int32(i+int64(ch)) {
			c.badLocked(fmt.Sprintf("channel %d is %d, want %d (index %d)", ch, v, int32(i+int64(ch)), i))
			return
		}
	}
	c.observeLocked(i)
}

func (c *counterCheck) observeLocked(i int64) {
	c.samples++
	switch {
	case !c.started:
		c.started, c.first, c.next = true, i, i+1
	case i == c.next:
		c.next++
	case i > c.next:
		c.lost.add(span{c.next, i - 1})
		if !c.announce {
			c.unannounced.add(span{c.next, i - 1})
		}
		c.next = i + 1
	default:
		c.dups++
	}
	c.announce = false
}

// comment reads one of the sink's '#' lines: a gap or restart line
// announces the hole that follows; replies and others are ignored.
func (c *counterCheck) comment(b []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case bytes.HasPrefix(b, []byte("# gap ")):
		c.gapLines++
		c.announce = true
	case bytes.HasPrefix(b, []byte("# restart ")):
		c.announce = true
	}
}

func (c *counterCheck) badLocked(msg string) {
	c.nbad++
	if len(c.bad) < 10 {
		c.bad = append(c.bad, msg)
	}
}

// line checks one csv line of a sample instant ("v0,v1,...") or reads a
// comment line.
func (c *counterCheck) line(b []byte) {
	b = bytes.TrimRight(b, "\r")
	if len(b) > 0 && b[0] == '#' {
		c.comment(b)
		return
	}
	var vals [8]int64
	v := vals[:0]
	for f := range bytes.SplitSeq(b, []byte{','}) {
		x, err := strconv.ParseInt(string(f), 10, 64)
		if err != nil || len(v) == cap(vals) {
			c.mu.Lock()
			c.badLocked(fmt.Sprintf("not a counter line: %q", b))
			c.mu.Unlock()
			return
		}
		v = append(v, x)
	}
	c.instant(v)
}

// counterState is a snapshot of a counterCheck.
type counterState struct {
	Started       bool
	First, Next   int64
	Samples, Dups int64
	Lost          spans
	Unannounced   spans // holes no "# gap" line came right before
	GapLines      int
	Bad           []string
	NBad          int
}

func (c *counterCheck) state() counterState {
	c.mu.Lock()
	defer c.mu.Unlock()
	return counterState{Started: c.started, First: c.first, Next: c.next, Samples: c.samples, Dups: c.dups,
		Lost: append(spans(nil), c.lost...), Unannounced: append(spans(nil), c.unannounced...), GapLines: c.gapLines,
		Bad: append([]string(nil), c.bad...), NBad: c.nbad}
}

func (s counterState) String() string {
	return fmt.Sprintf("samples %d (index %d..%d), lost %d %v (%d gap lines; unannounced %v), duplicates %d, bad %d %q",
		s.Samples, s.First, s.Next-1, s.Lost.total(), s.Lost, s.GapLines, s.Unannounced, s.Dups, s.NBad, s.Bad)
}
