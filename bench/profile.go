package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// profileResult is a CPU profile of wsbridge on one losing cell.
type profileResult struct {
	workload  string
	consumers int
	figures   []string
	file      string // kept under bench/out/ (git-ignored)
	top       string // go tool pprof -top
	err       error
}

// profileLosses re-runs wsbridge in-process (-relayd with runtime/pprof)
// on at most one cell per workload where it lost, the one with the most
// consumers, and keeps the top of the profile for the report.
func profileLosses(ctx context.Context, e *env, c *config, r *report) []profileResult {
	pick := map[string]*profileResult{}
	for _, l := range r.losses {
		cur := pick[l.key.workload]
		if cur == nil || l.key.consumers > cur.consumers {
			cur = &profileResult{workload: l.key.workload, consumers: l.key.consumers}
			pick[l.key.workload] = cur
		}
		if l.key.consumers == cur.consumers {
			cur.figures = append(cur.figures, fmt.Sprintf("%s vs %s", l.figure, l.key.system))
		}
	}
	var out []profileResult
	for _, w := range workloads(c) {
		pr := pick[w.name]
		if pr == nil || ctx.Err() != nil {
			continue
		}
		pr.run(ctx, e, w)
		out = append(out, *pr)
	}
	return out
}

func (pr *profileResult) run(ctx context.Context, e *env, w workload) {
	dir := filepath.Join(e.root, "bench/out")
	if pr.err = os.MkdirAll(dir, 0o755); pr.err != nil {
		return
	}
	pr.file = filepath.Join(dir, fmt.Sprintf("wsbridge-%s-%d.cpu.prof", w.name, pr.consumers))
	sys := system{name: "wsbridge", wire: wireWSPacket, start: func(e *env, pty string, port int) (*proc, error) {
		p, err := startProc("wsbridge-prof", e.tmp, nil, e.self, "-relayd", "-relayd-port", pty,
			"-relayd-listen", addr(port), "-relayd-max-clients", "256", "-relayd-cpuprofile", pr.file)
		if p != nil {
			p.grace = 3e9
		}
		return p, err
	}}
	res := runOnce(ctx, e, sys, w, pr.consumers, 0)
	logRun(&res)
	out, err := exec.Command("go", "tool", "pprof", "-top", "-nodecount=22", e.self, pr.file).CombinedOutput()
	if err != nil {
		pr.err = fmt.Errorf("go tool pprof: %v: %s", err, strings.TrimSpace(string(out)))
		return
	}
	pr.top = trimTop(string(out))
}

// trimTop drops pprof's preamble lines that name temporary files.
func trimTop(s string) string {
	var keep []string
	for _, l := range strings.Split(s, "\n") {
		if strings.HasPrefix(l, "File:") || strings.HasPrefix(l, "Build ID:") || strings.HasPrefix(l, "Type:") ||
			strings.HasPrefix(l, "Time:") {
			continue
		}
		keep = append(keep, l)
	}
	return strings.TrimSpace(strings.Join(keep, "\n"))
}

func (pr *profileResult) markdown(p func(string, ...any)) {
	p("### Profile: wsbridge, %s, %d consumers", pr.workload, pr.consumers)
	p("")
	p("Losing on: %s. CPU profile of the same capture + relay code run in-process with runtime/pprof (`bench -relayd -relayd-cpuprofile`), same workload; file: `bench/out/%s` (not committed).", strings.Join(pr.figures, "; "), filepath.Base(pr.file))
	p("")
	if pr.err != nil {
		p("Profiling failed: %v", pr.err)
		p("")
		return
	}
	p("```")
	p("%s", pr.top)
	p("```")
	p("")
}
