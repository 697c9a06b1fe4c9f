//go:build linux

package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// profileResult is a CPU profile of wsbridge on one losing cell.
type profileResult struct {
	workload  string
	consumers int
	figures   []string
	file      string // kept under bench/out/ (git-ignored)
	heapFile  string
	top       string // go tool pprof -top of the CPU profile
	heapTop   string // go tool pprof -top -sample_index=inuse_space of the heap at exit
	err       error
}

// profileLosses re-runs wsbridge in-process (-relayd with runtime/pprof)
// on at most one cell per workload where it lost, the one with the most
// consumers, and keeps the top of the profile for the report.
func profileLosses(ctx context.Context, e *env, c *config, r *report) []profileResult {
	pick := map[string]*profileResult{}
	for _, k := range c.profileCells {
		pick[k.workload] = &profileResult{workload: k.workload, consumers: k.consumers,
			figures: []string{"requested with --profile-cells"}}
	}
	for _, l := range r.losses {
		if len(c.profileCells) > 0 {
			break // the cells were chosen on the command line
		}
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
	pr.heapFile = filepath.Join(dir, fmt.Sprintf("wsbridge-%s-%d.heap.prof", w.name, pr.consumers))
	input := "frames"
	if w.text {
		input = "auto"
	}
	sys := system{name: "wsbridge", wire: wireWSPacket, start: func(e *env, pty string, port int, _ workload) (*proc, error) {
		p, err := startProc("wsbridge-prof", e.tmp, nil, e.self, "-relayd", "-relayd-port", pty, "-relayd-input", input,
			"-relayd-listen", addr(port), "-relayd-max-clients", "256", "-relayd-cpuprofile", pr.file, "-relayd-heapprofile", pr.heapFile)
		if p != nil {
			p.grace = 3 * time.Second
		}
		return p, err
	}}
	sys.snapshot = func(p *proc) {
		_ = syscall.Kill(p.pid(), syscall.SIGUSR1)
		for i := 0; i < 100; i++ { // wait for the profile to be written
			if st, err := os.Stat(pr.heapFile); err == nil && st.Size() > 0 {
				time.Sleep(100 * time.Millisecond) // let the write finish
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	_ = os.Remove(pr.heapFile)
	res := runOnce(ctx, e, sys, w, pr.consumers, 0)
	logRun(&res)
	pr.top, pr.err = pprofTop(e.self, pr.file, "-nodecount=22")
	if pr.err == nil {
		pr.heapTop, pr.err = pprofTop(e.self, pr.heapFile, "-nodecount=12", "-sample_index=inuse_space")
	}
}

func pprofTop(bin, file string, args ...string) (string, error) {
	argv := append([]string{"tool", "pprof", "-top"}, args...)
	out, err := exec.Command("go", append(argv, bin, file)...).CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("go tool pprof %s: %v: %s", file, err, strings.TrimSpace(string(out)))
	}
	return trimTop(string(out)), nil
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
	p("Losing on: %s. Profiles of serve.Run (the code of `wsbridge serve`) run in the bench binary with runtime/pprof (`bench -relayd -relayd-cpuprofile F -relayd-heapprofile F`), same workload; files `bench/out/%s` and `%s` (not committed).", strings.Join(pr.figures, "; "), filepath.Base(pr.file), filepath.Base(pr.heapFile))
	p("")
	if pr.err != nil {
		p("Profiling failed: %v", pr.err)
		p("")
		return
	}
	p("CPU:")
	p("")
	p("```")
	p("%s", pr.top)
	p("```")
	p("")
	p("Heap in use after the drain, every client still connected (after a GC; the rest of RSS is the Go runtime, goroutine stacks and memory freed but not yet returned to the OS):")
	p("")
	p("```")
	p("%s", pr.heapTop)
	p("```")
	p("")
}
