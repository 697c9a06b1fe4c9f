//go:build linux

package main

import (
	"fmt"
	"slices"
	"strings"

	"github.com/wsbridge/wsbridge/bench/internal/benchenv"
)

// roundOrder is the order of the systems in round rep: reversed every
// other round, so that a drift of the machine's load over the rounds
// weighs on every system alike.
func roundOrder(systems []string, rep int) []string {
	if rep%2 == 0 {
		return systems
	}
	r := slices.Clone(systems)
	slices.Reverse(r)
	return r
}

// combine makes one row of a system's runs: the median of each figure
// (the worst for peak RSS and max latency), the frames of every run
// summed, and each run's hub CPU and p50 listed. A failed run makes the
// row failed: its figures would not compare.
func combine(rs []*result) *result {
	if len(rs) == 1 {
		return rs[0]
	}
	for _, r := range rs {
		if r.err != "" {
			return r
		}
	}
	med := func(f func(*result) float64) float64 {
		v := make([]float64, len(rs))
		for i, r := range rs {
			v[i] = f(r)
		}
		return benchenv.Median(v)
	}
	c := *rs[0]
	c.hubCPU = med(func(r *result) float64 { return r.hubCPU })
	c.benchCPU = med(func(r *result) float64 { return r.benchCPU })
	c.p50 = med(func(r *result) float64 { return r.p50 })
	c.p99 = med(func(r *result) float64 { return r.p99 })
	c.expected, c.received, c.adcDropped, c.overrun, c.reconnects, c.cuts, c.holes, c.gapMsgs = 0, 0, 0, 0, 0, 0, 0, 0
	var cpu, p50 []string
	for _, r := range rs {
		c.hubRSS, c.max = max(c.hubRSS, r.hubRSS), max(c.max, r.max)
		c.expected += r.expected
		c.received += r.received
		c.adcDropped += r.adcDropped
		c.overrun += r.overrun
		c.reconnects += r.reconnects
		c.cuts += r.cuts
		c.holes += r.holes
		c.gapMsgs += r.gapMsgs
		cpu = append(cpu, fmt.Sprintf("%.1f", r.hubCPU))
		p50 = append(p50, fmt.Sprintf("%.2f", r.p50))
	}
	c.runs = fmt.Sprintf("%s %% / %s ms", strings.Join(cpu, ", "), strings.Join(p50, ", "))
	return &c
}
