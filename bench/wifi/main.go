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
	counts   []int // board counts to run, each a row per system
	reps     int   // runs of every system per count, interleaved
	devices  int   // the count of the run in progress
	rate     uint32
	frame    int
	duration time.Duration
	warmup   time.Duration
	systems  []string
	out      string
	command  string
	wsbridge string        // a prebuilt wsbridge binary instead of building ./cmd/wsbridge
	baseline string        // another wsbridge binary, run as the system "baseline"
	cutEvery time.Duration // reset every board's link this often (cuts.go); 0: never
}

func main() {
	if len(os.Args) == 3 && os.Args[1] == "go-relay" { // the system go-relay's process (gorelay.go)
		if err := serveGoRelay(os.Args[2]); err != nil {
			fmt.Fprintln(os.Stderr, "bench/wifi go-relay:", err)
			os.Exit(1)
		}
		return
	}
	var c config
	var systems, counts string
	quick := flag.Bool("quick", false, "20 boards, 5 s per system")
	flag.StringVar(&counts, "devices", "20,100", "simulated boards (and subscribers): counts to run, comma separated")
	flag.IntVar(&c.reps, "reps", 1, "runs of every system per board count, interleaved (the order reversed every other round); the table gives each figure's median and every run's hub CPU and p50")
	flag.DurationVar(&c.duration, "duration", 30*time.Second, "measured time per system, after the warm-up")
	flag.StringVar(&systems, "systems", "wsbridge,mosquitto-qos0,mosquitto-qos1", "systems to run: wsbridge, baseline, mosquitto-qos0, mosquitto-qos1, go-relay (a floor: the least a Go WebSocket relay does)")
	flag.StringVar(&c.out, "out", "docs/benchmarks-peers.md", "report file (its Wi-Fi section is replaced)")
	flag.StringVar(&c.wsbridge, "wsbridge", "", "a wsbridge binary to run as the system wsbridge instead of building ./cmd/wsbridge")
	flag.StringVar(&c.baseline, "baseline", "", "also run this wsbridge binary, as the system \"baseline\" (before/after a change in one run)")
	flag.DurationVar(&c.cutEvery, "cut-every", 0, "reset every board's link to the hub at once this often (a proxy in the bench; subscribers stay connected): what each system loses over Wi-Fi drops, in a section of its own")
	flag.Parse()
	c.rate, c.frame, c.warmup = 16000, 256, 3*time.Second
	if *quick {
		counts, c.duration, c.warmup = "20", 5*time.Second, time.Second
	}
	for _, f := range strings.Split(counts, ",") {
		var n int
		if _, err := fmt.Sscan(f, &n); err != nil || n < 1 || n > 1000 {
			fmt.Fprintf(os.Stderr, "bench/wifi: --devices: want counts 1..1000, got %q\n", f)
			os.Exit(2)
		}
		c.counts = append(c.counts, n)
	}
	if c.cutEvery < 0 || c.cutEvery > 0 && c.cutEvery < 500*time.Millisecond {
		fmt.Fprintf(os.Stderr, "bench/wifi: --cut-every: want 500ms or more (or 0: no cuts), got %s\n", c.cutEvery)
		os.Exit(2)
	}
	if c.reps < 1 || c.reps > 9 {
		fmt.Fprintf(os.Stderr, "bench/wifi: --reps: want 1..9, got %d\n", c.reps)
		os.Exit(2)
	}
	c.systems = strings.Split(systems, ",")
	if c.baseline != "" && !slices.Contains(c.systems, "baseline") {
		c.systems = append([]string{"baseline"}, c.systems...)
	}
	c.command = strings.TrimSpace("go run ./bench/wifi " + strings.Join(os.Args[1:], " "))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, &c); err != nil {
		fmt.Fprintln(os.Stderr, "bench/wifi:", err)
		os.Exit(1)
	}
}

func note(format string, a ...any) { fmt.Fprintf(os.Stderr, "bench/wifi: "+format+"\n", a...) }

func run(ctx context.Context, c *config) error {
	root, err := benchenv.RepoRoot()
	if err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "wsbridge-wifi-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	env := &env{root: root, tmp: tmp}
	started := time.Now()
	load0 := benchenv.LoadAvg()
	var results []*result
	for _, n := range c.counts {
		c.devices = n
		runs := make(map[string][]*result)
		for rep := 0; rep < c.reps; rep++ {
			for _, s := range roundOrder(c.systems, rep) {
				note("running %s: %d boards, %s (run %d of %d)", s, n, c.duration, rep+1, c.reps)
				res, err := runSystem(ctx, env, c, s)
				if err != nil {
					note("%s: %v", s, err)
					res = &result{system: s, err: err.Error()}
				}
				res.boards = n
				runs[s] = append(runs[s], res)
				if ctx.Err() != nil {
					return ctx.Err()
				}
			}
		}
		for _, s := range c.systems {
			results = append(results, combine(runs[s]))
		}
	}
	rep := &report{c: c, results: results, took: time.Since(started), load: [2]string{load0, benchenv.LoadAvg()}, env: env}
	out := c.out
	if !filepath.IsAbs(out) {
		out = filepath.Join(root, out)
	}
	return rep.write(out)
}

func runSystem(ctx context.Context, e *env, c *config, name string) (*result, error) {
	switch name {
	case "wsbridge":
		return runWSBridge(ctx, e, c, name, c.wsbridge)
	case "baseline":
		if c.baseline == "" {
			return nil, fmt.Errorf("system baseline: give the binary with --baseline")
		}
		return runWSBridge(ctx, e, c, name, c.baseline)
	case "mosquitto-qos0":
		return runMosquitto(ctx, e, c, 0)
	case "mosquitto-qos1":
		return runMosquitto(ctx, e, c, 1)
	case "go-relay":
		return runGoRelay(ctx, c)
	}
	return nil, fmt.Errorf("unknown system %q (want wsbridge, baseline, mosquitto-qos0, mosquitto-qos1, go-relay)", name)
}

type env struct {
	root, tmp string
}
