//go:build linux

package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/wsbridge/wsbridge/bench/internal/benchenv"
)

// cell is every run of one system on one workload with n consumers.
type cell struct {
	runs                                    []runResult
	mbps, agg, p50, p99, max, cpu, rss, hwm float64 // medians over runs
	sw                                      float64 // context switches per frame, median
	lost, late, reported, expected, bad     uint64  // sums over runs
	lat                                     hist    // merged over runs
	errs                                    []string
}

type cellKey struct {
	workload  string
	consumers int
	system    string
}

type report struct {
	c        *config
	e        *env
	cells    map[cellKey]*cell
	systems  []string
	skipped  []string
	elapsed  time.Duration
	date     time.Time
	losses   []loss
	profiles []profileResult
	load     [2]string // 1-minute load average at start and end
}

// loss is a figure on which wsbridge is worse than a peer.
type loss struct {
	key    cellKey // the peer's cell
	figure string
	ws, pe float64
}

func newReport(c *config, e *env, results []runResult, skipped []string, elapsed time.Duration) *report {
	r := &report{c: c, e: e, cells: map[cellKey]*cell{}, skipped: skipped, elapsed: elapsed, date: time.Now().UTC()}
	for _, res := range results {
		k := cellKey{res.workload, res.consumers, res.system}
		if r.cells[k] == nil {
			r.cells[k] = &cell{}
		}
		r.cells[k].runs = append(r.cells[k].runs, res)
	}
	for _, s := range allSystems() {
		if slices.Contains(c.systems, s.name) {
			r.systems = append(r.systems, s.name)
		}
	}
	for _, cl := range r.cells {
		cl.summarise()
	}
	r.findLosses()
	return r
}

func (c *cell) summarise() {
	pick := func(f func(r *runResult) float64) float64 {
		var xs []float64
		for i := range c.runs {
			xs = append(xs, f(&c.runs[i]))
		}
		return benchenv.Median(xs)
	}
	c.mbps = pick(func(r *runResult) float64 { return r.mbps })
	c.agg = pick(func(r *runResult) float64 { return r.aggMBps })
	c.p50 = pick(func(r *runResult) float64 { return r.lat.quantile(0.5) })
	c.p99 = pick(func(r *runResult) float64 { return r.lat.quantile(0.99) })
	c.max = pick(func(r *runResult) float64 { return r.lat.quantile(1) })
	c.cpu = pick(func(r *runResult) float64 { return r.cpuPct })
	c.rss = pick(func(r *runResult) float64 { return r.rssMB })
	c.hwm = pick(func(r *runResult) float64 { return r.hwmMB })
	c.sw = pick(func(r *runResult) float64 { return r.swPerFrm })
	for i := range c.runs {
		r := &c.runs[i]
		c.lost += r.lost
		c.late += r.late
		c.reported += r.reported
		c.expected += r.expected
		c.bad += r.badFrames
		c.lat.merge(&r.lat)
		for _, e := range r.errs {
			c.errs = append(c.errs, fmt.Sprintf("rep %d: %s", r.rep, e))
		}
	}
}

// lossThreshold: wsbridge "loses" a figure when it is worse by more than this.
const lossThreshold = 0.10

// findLosses compares wsbridge with every peer, figure by figure.
func (r *report) findLosses() {
	for k, pc := range r.cells {
		if k.system == "wsbridge" {
			continue
		}
		wc := r.cells[cellKey{k.workload, k.consumers, "wsbridge"}]
		if wc == nil {
			continue
		}
		type fig struct {
			name   string
			ws, pe float64
			higher bool // higher is better
		}
		figs := []fig{{"peak RSS MB", wc.hwm, pc.hwm, false}}
		if k.workload == "flat" {
			figs = append(figs, fig{"MB/s per consumer", wc.mbps, pc.mbps, true},
				fig{"CPU ms per MB delivered", cpuPerMB(wc), cpuPerMB(pc), false})
		} else {
			figs = append(figs, fig{"CPU %", wc.cpu, pc.cpu, false}, fig{"latency p50 µs", wc.p50, pc.p50, false},
				fig{"latency p99 µs", wc.p99, pc.p99, false})
		}
		figs = append(figs, fig{"samples lost", lossPct(wc), lossPct(pc), false})
		for _, f := range figs {
			worse := f.ws > f.pe*(1+lossThreshold) && f.ws-f.pe > 1e-9
			if f.higher {
				worse = f.ws < f.pe*(1-lossThreshold)
			}
			if f.name == "samples lost" {
				worse = f.ws > f.pe
			}
			if worse {
				r.losses = append(r.losses, loss{key: k, figure: f.name, ws: f.ws, pe: f.pe})
			}
		}
	}
	slices.SortFunc(r.losses, func(a, b loss) int {
		return strings.Compare(fmt.Sprint(a.key.workload, a.key.consumers, a.key.system, a.figure),
			fmt.Sprint(b.key.workload, b.key.consumers, b.key.system, b.figure))
	})
}

func lossPct(c *cell) float64 {
	if c.expected == 0 {
		return 0
	}
	return 100 * float64(c.lost) / float64(c.expected)
}

func (r *report) write(root string) error {
	md := r.markdown()
	out := abs(root, r.c.out)
	if old, err := os.ReadFile(out); err == nil {
		md = keepSections(string(old), md)
	}
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(out, []byte(md), 0o644); err != nil {
		return err
	}
	svg := abs(root, r.c.svg)
	if err := os.MkdirAll(filepath.Dir(svg), 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(svg, []byte(r.plot()), 0o644); err != nil {
		return err
	}
	note("wrote %s and %s", out, svg)
	return nil
}

func (r *report) plot() string {
	var panels []panel
	for _, wl := range []struct{ name, title string }{{"48k", "48 kHz mono"}, {"text1k", "text, 1000 lines/s"}} {
		for _, n := range r.c.consumers {
			p := panel{title: fmt.Sprintf("%s, %d consumer%s", wl.title, n, plural(n))}
			for _, s := range r.systems {
				if c := r.cells[cellKey{wl.name, n, s}]; c != nil && c.lat.n > 0 {
					xs, ys := c.lat.cdf()
					p.lines = append(p.lines, series{name: s, xs: xs, ys: ys})
				}
			}
			if len(p.lines) > 0 {
				panels = append(panels, p)
			}
		}
	}
	return cdfSVG("Added latency, device write to consumer receive: CDF per system", panels)
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// machine describes where the run happened.
func machine() []string {
	cpu := "unknown"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
				cpu = strings.TrimSpace(v)
				break
			}
		}
	}
	kernel, _ := os.ReadFile("/proc/sys/kernel/osrelease")
	return []string{
		fmt.Sprintf("CPU: %s, %d cores (runtime.NumCPU)", cpu, runtime.NumCPU()),
		"Kernel: Linux " + strings.TrimSpace(string(kernel)),
		"Go: " + runtime.Version(),
		"Peers: " + strings.Join(peerVersions(), ", "),
	}
}

func peerVersions() []string {
	v := func(name string, args ...string) string {
		out, err := exec.Command(args[0], args[1:]...).CombinedOutput()
		if err != nil {
			return name + " (missing)"
		}
		s := strings.TrimSpace(strings.Split(strings.TrimSpace(string(out)), "\n")[0])
		return s
	}
	return []string{
		v("ser2net", "ser2net", "-v"),
		"socat " + socatVersion(),
		"Python " + strings.TrimPrefix(v("python", "/usr/bin/python3", "--version"), "Python "),
		"Node " + v("node", "node", "--version"),
	}
}

func socatVersion() string {
	out, err := exec.Command("socat", "-V").CombinedOutput()
	if err != nil {
		return ""
	}
	for _, l := range strings.Split(string(out), "\n") {
		if strings.HasPrefix(l, "socat version") {
			return strings.Fields(l)[2]
		}
	}
	return ""
}

func abs(root, p string) string {
	if filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(root, p)
}

// keepSections carries over, from the report being replaced, the sections
// other benches write into the same file (between "<!-- section NAME:"
// and "<!-- /section NAME -->" lines, e.g. go run ./bench/wifi's).
func keepSections(old, md string) string {
	for {
		i := strings.Index(old, "<!-- section ")
		if i < 0 {
			return md
		}
		name, _, _ := strings.Cut(old[i+len("<!-- section "):], ":")
		end := "<!-- /section " + name + " -->"
		j := strings.Index(old[i:], end)
		if j < 0 {
			return md
		}
		sec := old[i : i+j+len(end)]
		if !strings.Contains(md, sec[:strings.Index(sec, "-->")]) {
			md = strings.TrimRight(md, "\n") + "\n\n" + sec + "\n"
		}
		old = old[i+j+len(end):]
	}
}
