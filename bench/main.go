//go:build linux

package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/wsbridge/wsbridge/bench/internal/benchenv"
)

type config struct {
	quick        bool
	reps         int
	consumers    []int
	systems      []string
	out          string
	svg          string
	profile      bool
	settle       time.Duration
	profileCells []cellKey
	wsEnv        []string
	dur48k       time.Duration
	durFlat      time.Duration
	command      string
	workloads    []string
	durText      time.Duration
	wsbridgeBin  string
	baseline     string
}

func main() {
	relayd := flag.Bool("relayd", false, "internal: run capture+relay in-process (used by the bench itself)")
	var ro relaydOpts
	flag.StringVar(&ro.port, "relayd-port", "", "internal: pty for -relayd")
	flag.StringVar(&ro.listen, "relayd-listen", "127.0.0.1:0", "internal: listen address for -relayd")
	flag.StringVar(&ro.input, "relayd-input", "frames", "internal: serve's --input for -relayd")
	flag.StringVar(&ro.cpuProfile, "relayd-cpuprofile", "", "internal: CPU profile file for -relayd")
	flag.StringVar(&ro.heapProfile, "relayd-heapprofile", "", "internal: heap profile file for -relayd")
	flag.IntVar(&ro.maxClients, "relayd-max-clients", 256, "internal: max clients for -relayd")
	flag.StringVar(&ro.slowClient, "relayd-slow-client", "skip", "internal: slow-client policy for -relayd")
	flag.Func("relayd-device", "internal: a --device spec for -relayd (repeatable)", func(s string) error {
		ro.devices = append(ro.devices, s)
		return nil
	})
	flag.DurationVar(&ro.history, "relayd-history", 0, "internal: --history for -relayd")
	var sc scaleConfig
	scaleFlags(flag.CommandLine, &sc)

	var c config
	var consumers, systems, cells, wsEnv, wls string
	flag.BoolVar(&c.quick, "quick", false, "short run: one repetition, 1 and 100 consumers, about 1 s per run (under a minute)")
	flag.IntVar(&c.reps, "reps", 0, "repetitions per cell (default 1 with --quick, 3 otherwise)")
	flag.StringVar(&consumers, "consumers", "", "consumer counts (default 1,10,100; 1,100 with --quick)")
	flag.StringVar(&systems, "systems", "wsbridge,ser2net,socat,python,node", "systems to run")
	flag.StringVar(&c.out, "out", "docs/benchmarks-peers.md", "report file (relative to the repository root)")
	flag.StringVar(&c.svg, "svg", "docs/img/latency-cdf.svg", "latency CDF plot (relative to the repository root)")
	flag.DurationVar(&c.settle, "settle", 0, "pause between connecting the consumers and the first write (default 300ms, 200ms with --quick)")
	flag.StringVar(&cells, "profile-cells", "", "profile wsbridge on these cells instead of where it loses, e.g. 48k:1,flat:100 (one per workload)")
	flag.StringVar(&wsEnv, "wsbridge-env", "", "extra environment for the wsbridge process, e.g. GOMAXPROCS=1 (comma separated)")
	flag.BoolVar(&c.profile, "profile", true, "profile wsbridge (runtime/pprof) on the cells where it loses")
	flag.StringVar(&wls, "workloads", "48k,flat,text1k,text48k", "workloads to run (text ones with at most 10 consumers)")
	flag.StringVar(&c.baseline, "baseline", "", "also run this wsbridge binary, as the system \"baseline\" (before/after a change in one run)")
	flag.StringVar(&c.wsbridgeBin, "wsbridge", "", "a wsbridge binary to measure instead of building ./cmd/wsbridge (e.g. one built from main, to compare)")
	flag.Parse()
	if *relayd {
		if err := runRelayd(ro); err != nil {
			fmt.Fprintln(os.Stderr, "relayd:", err)
			os.Exit(1)
		}
		return
	}
	c.command = strings.TrimSpace("go run ./bench " + strings.Join(os.Args[1:], " "))
	if sc.what != "" {
		sc.wsbridge, sc.baseline, sc.reps = c.wsbridgeBin, c.baseline, c.reps
		if err := runScale(&sc, "`"+c.command+"`"); err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			os.Exit(1)
		}
		return
	}
	if err := c.finish(consumers, systems, cells, wls); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(2)
	}
	if wsEnv != "" {
		c.wsEnv = strings.Split(wsEnv, ",")
	}
	if err := run(&c); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		killAll()
		os.Exit(1)
	}
}

func (c *config) finish(consumers, systems, cells, wls string) error {
	for _, s := range strings.Split(cells, ",") {
		if s == "" {
			continue
		}
		wl, n, ok := strings.Cut(s, ":")
		var k cellKey
		if _, err := fmt.Sscan(n, &k.consumers); !ok || err != nil || !slices.Contains(workloadNames, wl) {
			return fmt.Errorf("--profile-cells: want WORKLOAD:CONSUMERS (48k:1, flat:100, text1k:1), got %q", s)
		}
		k.workload, k.system = wl, "wsbridge"
		c.profileCells = append(c.profileCells, k)
	}
	if c.reps == 0 {
		c.reps = 3
		if c.quick {
			c.reps = 1
		}
	}
	c.dur48k, c.durFlat, c.durText = 4*time.Second, 3*time.Second, 4*time.Second
	switch {
	case consumers != "":
	case c.quick:
		consumers = "1,100"
	default:
		consumers = "1,10,100"
	}
	if c.quick {
		c.dur48k, c.durFlat, c.durText = time.Second, 600*time.Millisecond, time.Second
	}
	if c.settle == 0 {
		c.settle = 300 * time.Millisecond
		if c.quick {
			c.settle = 200 * time.Millisecond
		}
	}
	for _, s := range strings.Split(consumers, ",") {
		var n int
		if _, err := fmt.Sscan(strings.TrimSpace(s), &n); err != nil || n < 1 || n > 500 {
			return fmt.Errorf("--consumers: want counts 1..500, got %q", s)
		}
		c.consumers = append(c.consumers, n)
	}
	for _, s := range strings.Split(wls, ",") {
		if !slices.Contains(workloadNames, s) {
			return fmt.Errorf("--workloads: unknown %q (want some of %s)", s, strings.Join(workloadNames, ","))
		}
		c.workloads = append(c.workloads, s)
	}
	known := map[string]bool{}
	for _, s := range allSystems() {
		known[s.name] = true
	}
	for _, s := range strings.Split(systems, ",") {
		if !known[s] {
			return fmt.Errorf("--systems: unknown %q", s)
		}
		c.systems = append(c.systems, s)
	}
	if c.baseline != "" && !slices.Contains(c.systems, "baseline") {
		c.systems = append(c.systems, "baseline")
	}
	return nil
}

func run(c *config) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	defer killAll()
	e, err := setup(c)
	if err != nil {
		return err
	}
	e.wsEnv = c.wsEnv
	if c.baseline != "" {
		if e.baseline, err = filepath.Abs(c.baseline); err != nil {
			return err
		}
	}
	defer os.RemoveAll(e.tmp)
	started := time.Now()
	load0 := benchenv.LoadAvg()
	results, skipped := schedule(ctx, e, c)
	if ctx.Err() != nil {
		return ctx.Err()
	}
	rep := newReport(c, e, results, skipped, time.Since(started))
	rep.load = [2]string{load0, benchenv.LoadAvg()}
	if c.profile {
		rep.profiles = profileLosses(ctx, e, c, rep)
	}
	return rep.write(e.root)
}

// setup finds the repository root, builds what the systems need.
func setup(c *config) (*env, error) {
	root, err := benchenv.RepoRoot()
	if err != nil {
		return nil, err
	}
	tmp, err := os.MkdirTemp("", "wsbridge-bench-")
	if err != nil {
		return nil, err
	}
	e := &env{root: root, tmp: tmp, python: "/usr/bin/python3"}
	if e.self, err = os.Executable(); err != nil {
		return nil, err
	}
	if e.wsbridge, err = buildWSBridge(root, tmp, c.wsbridgeBin); err != nil {
		note("wsbridge: %v; using the same capture+relay code in-process (-relayd)", err)
	}
	if e.node, err = prepareNode(root); err != nil {
		note("%v", err)
	}
	return e, nil
}

func note(format string, a ...any) { fmt.Fprintf(os.Stderr, "bench: "+format+"\n", a...) }

var workloadNames = []string{"48k", "flat", "text1k", "text48k"}

// workloads are the chosen workloads, in the order of workloadNames.
func workloads(c *config) []workload {
	all := []workload{
		{name: "48k", title: "48 kHz mono i16 (realistic)", rate: 48000, frameSamples: 480, duration: c.dur48k, settle: c.settle},
		{name: "flat", title: "flat out (as fast as the pty takes)", rate: 48000, frameSamples: 480, flat: true,
			duration: c.durFlat, settle: c.settle},
		{name: "text1k", title: "text input, 1000 lines/s (a Serial.println sketch)", rate: 1000, frameSamples: 1, text: true,
			maxConsumers: 10, duration: c.durText, settle: c.settle},
		{name: "text48k", title: "text input, 48000 lines/s", rate: 48000, frameSamples: 1, text: true,
			maxConsumers: 10, duration: c.durText, settle: c.settle},
	}
	return slices.DeleteFunc(all, func(w workload) bool { return !slices.Contains(c.workloads, w.name) })
}

// schedule runs every cell, interleaving systems within each repetition
// and rotating their order between repetitions.
func schedule(ctx context.Context, e *env, c *config) ([]runResult, []string) {
	var sys []system
	for _, s := range allSystems() {
		for _, name := range c.systems {
			if s.name == name {
				sys = append(sys, s)
			}
		}
	}
	var out []runResult
	var skipped []string
	for _, w := range workloads(c) {
		for _, n := range c.consumers {
			if w.maxConsumers > 0 && n > w.maxConsumers {
				if w.name == "text1k" || !slices.Contains(c.workloads, "text1k") {
					skipped = append(skipped, fmt.Sprintf("the text workloads with %d consumers", n))
				}
				continue
			}
			for rep := 0; rep < c.reps; rep++ {
				for k := range sys {
					s := sys[(k+rep)%len(sys)]
					if !s.supports(n) {
						if rep == 0 && w.name == workloads(c)[0].name {
							skipped = append(skipped, fmt.Sprintf("%s with %d consumers", s.name, n))
						}
						continue
					}
					if ctx.Err() != nil {
						return out, skipped
					}
					r := runOnce(ctx, e, s, w, n, rep)
					if len(r.errs) > 0 && r.written.frames == 0 && ctx.Err() == nil {
						logRun(&r) // failed before the first write (e.g. slow start): once more
						r = runOnce(ctx, e, s, w, n, rep)
					}
					logRun(&r)
					out = append(out, r)
				}
			}
		}
	}
	return out, skipped
}

func logRun(r *runResult) {
	fmt.Fprintf(os.Stderr, "%-5s n=%-3d %-8s rep %d: %7.1f MB/s  p50 %6.0f µs  p99 %6.0f µs  cpu %5.1f%%  hwm %6.1f MB  lost %d/%d  (%.1fs)%s\n",
		r.workload, r.consumers, r.system, r.rep, r.mbps, r.lat.quantile(0.5), r.lat.quantile(0.99),
		r.cpuPct, r.hwmMB, r.lost, r.expected, r.wall.Seconds(), errSuffix(r.errs))
}

func errSuffix(errs []string) string {
	if len(errs) == 0 {
		return ""
	}
	return "  ERR " + strings.Join(errs, "; ")
}
