package web

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/wsbridge/wsbridge/internal/testenv"
	"github.com/wsbridge/wsbridge/internal/testsupport"
)

// The browser tests drive Debian's chromium (or $CHROMIUM) headless against
// a real serve. Without a browser they skip, except under CI=true where a
// missing browser is a failure.
//
// One Chromium serves the whole package, started by the first test that
// needs it and stopped by TestMain. Each test has its own tab in its own
// browser context (its storage, cache and downloads apart from the
// others'), and its own serve and simulator, so the browser tests run in
// parallel (parallelPage): most of their time is spent watching a stream
// arrive in real time.

// The page slots bound how many browser tests run at once. A light test
// takes one; a heavy one (a high-rate stream, a dozen channels, or checks of
// drawn pixels and lost frames that a starved machine could spoil) takes
// two, so one heavy test runs at a time, beside at most one other. A slow
// test is a light one that waits long on a slow stream (a 10 s window at
// 10 Hz): it starts before the other light ones, so that it does not end
// the package alone. The figures suit 2 cores: the tests' CPU is mostly
// Chromium drawing their pages (about 0.8 of a core for a tab at 8 kHz),
// for as long as they are open, so more at once would only slow each down
// (measured: 4 slots took as long as 3, with more CPU).
const pageSlots = 3

// pageKind says what a browser test needs of the page slots.
type pageKind int

const (
	light pageKind = iota // one slot
	slow                  // one slot, before the light tests
	heavy                 // two slots, before the others
)

func (k pageKind) slots() int {
	if k == heavy {
		return 2
	}
	return 1
}

var pages = &slotPool{free: pageSlots}

// parallelPage marks t parallel and holds its page slots until t and its
// cleanups (its serve, its tab) end. Call it first, before starting
// anything: a parallel test waits for the package's serial tests.
func parallelPage(t *testing.T, kind pageKind) {
	t.Helper()
	t.Parallel()
	t0 := time.Now()
	pages.acquire(kind)
	if waited := time.Since(t0); waited > 100*time.Millisecond {
		t.Logf("waited %v for %d page slots", waited.Round(time.Millisecond), kind.slots())
	}
	t.Cleanup(func() { pages.release(kind) })
}

// slotPool hands out the page slots: heavy tests first, then slow ones,
// then light ones, each kind in the order it asked. A test takes a slot
// that the waiting heavy test could not use yet because another heavy one
// runs (the slot would idle until that one ends), but not one that a heavy
// test is gathering from others ending (it would never gather two). Safe
// for concurrent use.
type slotPool struct {
	mu      sync.Mutex
	free    int
	heavyOn int // heavy tests running
	queue   []*slotWait
}

type slotWait struct {
	kind  pageKind
	ready chan struct{}
}

func (p *slotPool) acquire(kind pageKind) {
	w := &slotWait{kind: kind, ready: make(chan struct{})}
	p.mu.Lock()
	p.queue = append(p.queue, w)
	p.grant()
	p.mu.Unlock()
	<-w.ready
}

func (p *slotPool) release(kind pageKind) {
	p.mu.Lock()
	p.free += kind.slots()
	if kind == heavy {
		p.heavyOn--
	}
	p.grant()
	p.mu.Unlock()
}

// grant starts the waiting tests that may start now; p.mu is held.
func (p *slotPool) grant() {
	slices.SortStableFunc(p.queue, func(a, b *slotWait) int { return int(b.kind - a.kind) })
	gathering := false // a heavy test waits for light or slow ones to end
	rest := p.queue[:0]
	for _, w := range p.queue {
		if gathering || w.kind.slots() > p.free {
			gathering = gathering || (w.kind == heavy && p.heavyOn == 0)
			rest = append(rest, w)
			continue
		}
		p.free -= w.kind.slots()
		if w.kind == heavy {
			p.heavyOn++
		}
		close(w.ready)
	}
	clear(p.queue[len(rest):])
	p.queue = rest
}

var (
	browserOnce   sync.Once
	browserCtx    context.Context
	browserErr    error
	browserCancel context.CancelFunc
)

// needBrowser returns the shared browser context, starting chromium (or
// $CHROMIUM) once. Without it the test skips, or fails under CI=true.
func needBrowser(t testing.TB) context.Context {
	t.Helper()
	path := os.Getenv("CHROMIUM")
	if path == "" {
		path = testenv.Need(t, "chromium", "chromium")
	}
	browserOnce.Do(func() { browserCtx, browserErr = startBrowser(path) })
	if browserErr != nil {
		t.Fatalf("failed to start %s: %v", path, browserErr)
	}
	return browserCtx
}

func startBrowser(path string) (context.Context, error) {
	dir, err := os.MkdirTemp("", "wsbridge-chromium-")
	if err != nil {
		return nil, err
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.UserDataDir(dir),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("no-default-browser-check", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("ignore-certificate-errors", true), // the TLS test's self-signed certificate
		chromedp.WindowSize(1200, 860),
	}
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(alloc)
	if err := chromedp.Do(ctx); err != nil {
		cancel()
		cancelAlloc()
		os.RemoveAll(dir)
		return nil, err
	}
	browserCancel = func() {
		cancel()
		cancelAlloc()
		os.RemoveAll(dir)
	}
	return ctx, nil
}

func TestMain(m *testing.M) {
	flag.Parse()
	// -parallel defaults to GOMAXPROCS (2 here), which would leave the
	// browser tests' slots idle while they wait on their streams, and let
	// the testing package, not the page slots, pick which test goes next:
	// unless -parallel is given, every parallel test may start, and the
	// page slots bound the browser tests (a test waiting for its slots is a
	// parked goroutine).
	given := false
	flag.Visit(func(f *flag.Flag) { given = given || f.Name == "test.parallel" })
	if !given {
		if err := flag.Set("test.parallel", "64"); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
	}
	code := m.Run()
	if browserCancel != nil {
		browserCancel()
	}
	os.Exit(code)
}

// tab is one page in the shared browser, recording console errors and
// uncaught exceptions.
type tab struct {
	t        testing.TB
	ctx      context.Context
	mu       sync.Mutex
	problems []string
}

func newTab(t testing.TB) *tab {
	t.Helper()
	tb := &tab{t: t}
	ctx, cancel := chromedp.NewContext(needBrowser(t), chromedp.WithNewBrowserContext(), chromedp.WithListener(tb.onEvent))
	if err := chromedp.Do(ctx); err != nil { // opens the tab, before any timeout
		cancel()
		t.Fatalf("failed to open a tab: %v", err)
	}
	// chromedp enables the Network domain, which makes Chromium copy every
	// WebSocket frame into an event for us (base64 for binary frames): no
	// test reads those events, and they cost half the CPU of the busiest
	// tests (1 MS/s, 48 kHz, twelve channels).
	if _, err := chromedp.Call(ctx, network.Disable, cdp.Empty{}); err != nil {
		cancel()
		t.Fatalf("failed to disable network events: %v", err)
	}
	ctx, cancelTimeout := context.WithTimeout(ctx, 90*time.Second)
	tb.ctx = ctx
	t.Cleanup(func() {
		cancelTimeout()
		cancel()
	})
	return tb
}

func (tb *tab) onEvent(ev any) {
	switch e := ev.(type) {
	case *runtime.EventConsoleAPICalled:
		if e.Type == runtime.ConsoleAPICalledTypeError || e.Type == runtime.ConsoleAPICalledTypeWarning || e.Type == runtime.ConsoleAPICalledTypeAssert {
			var args []string
			for _, a := range e.Args {
				args = append(args, string(a.Value)+a.Description)
			}
			tb.mu.Lock()
			tb.problems = append(tb.problems, fmt.Sprintf("console.%s: %s", e.Type, strings.Join(args, " ")))
			tb.mu.Unlock()
		}
	case *runtime.EventExceptionThrown:
		d := e.ExceptionDetails
		msg := d.Text
		if d.Exception != nil {
			msg += " " + d.Exception.Description
		}
		tb.mu.Lock()
		tb.problems = append(tb.problems, fmt.Sprintf("uncaught exception at %s:%d: %s", d.URL, d.LineNumber, msg))
		tb.mu.Unlock()
	}
}

// noProblems fails the test if the page logged errors or threw.
func (tb *tab) noProblems() {
	tb.t.Helper()
	tb.mu.Lock()
	defer tb.mu.Unlock()
	for _, p := range tb.problems {
		tb.t.Errorf("page problem: %s", p)
	}
}

func (tb *tab) run(actions ...chromedp.Action[chromedp.Void]) {
	tb.t.Helper()
	if err := chromedp.Do(tb.ctx, actions...); err != nil {
		tb.t.Fatalf("browser: %v", err)
	}
}

// eval evaluates a JavaScript expression and decodes its JSON value into out.
func (tb *tab) eval(expr string, out any) {
	tb.t.Helper()
	raw, err := chromedp.Run(tb.ctx, chromedp.Evaluate[[]byte](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		tb.t.Fatalf("eval %.60q: %v", expr, err)
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			tb.t.Fatalf("eval %q: %v (value %s)", expr, err, raw)
		}
	}
}

// hook is the page's window.wsbridge counters.
type hook struct {
	State        string         `json:"state"`
	DeviceState  string         `json:"deviceState"`
	Frames       int64          `json:"frames"`
	Samples      int64          `json:"samples"`
	SPS          float64        `json:"sps"`
	Gaps         int64          `json:"gaps"`
	LostFrames   int64          `json:"lostFrames"`
	GapsByReason map[string]int `json:"gapsByReason"`
	BadPackets   int64          `json:"badPackets"`
	CRCErrors    int64          `json:"crcErrors"`
	Restarts     int64          `json:"restarts"`
	Connects     int64          `json:"connects"`
	Drawn        int64          `json:"drawn"`
	Paused       bool           `json:"paused"`
	Rate         float64        `json:"rate"`
	Channels     int            `json:"channels"`
	FirstSeq     *uint32        `json:"firstSeq"`
	LastSeq      *uint32        `json:"lastSeq"`
}

func (tb *tab) hook() hook {
	tb.t.Helper()
	var h hook
	tb.eval(`JSON.parse(JSON.stringify(window.wsbridge || {}))`, &h)
	return h
}

// waitFor polls the JavaScript condition cond until it is true.
func (tb *tab) waitFor(what, cond string, timeout time.Duration) {
	tb.t.Helper()
	ok := testsupport.Within(timeout, 50*time.Millisecond, func() bool {
		var ok bool
		tb.eval(`!!(`+cond+`)`, &ok)
		return ok
	})
	if !ok {
		tb.t.Fatalf("timed out after %v waiting for %s (%s); page state %+v", timeout, what, cond, tb.hook())
	}
}

// plotCoverage reads the canvas and returns, per channel lane, the
// fraction of pixel columns holding at least one pixel in a trace color,
// and the total number of such pixels. When the page counted lost frames,
// a hole in the trace is expected where they were: the fraction is then
// of the columns the page had samples for.
func (tb *tab) plotCoverage() (lanes []float64, pixels int) {
	tb.t.Helper()
	c := tb.coverage()
	var lost int
	tb.eval(`Object.values(wsbridgeView.streams).reduce((n, s) => n + s.lostFrames, 0)`, &lost)
	if lost > 0 {
		tb.t.Logf("%d frames lost (a loaded machine): coverage of the columns with samples %.3v, of all %.3v", lost, c.Drawn, c.Lanes)
		return c.Drawn, c.Pixels
	}
	return c.Lanes, c.Pixels
}

// coverage is what the canvas holds in trace colors: per lane, the
// fraction of pixel columns with a trace pixel (Lanes), that fraction of
// the columns the page had samples for (Drawn), the fraction of the lane's
// area in trace pixels (Fill), and the pixels in all.
type coverage struct {
	Lanes  []float64 `json:"lanes"`
	Drawn  []float64 `json:"drawn"`
	Fill   []float64 `json:"fill"`
	Pixels int       `json:"pixels"`
}

func (tb *tab) coverage() coverage {
	tb.t.Helper()
	var r coverage
	tb.eval(`(() => {
	  const c = document.getElementById("plot");
	  const W = c.width, H = c.height, px = c.getContext("2d").getImageData(0, 0, W, H).data;
	  const n = Math.max(1, wsbridge.axisLabels.length || wsbridge.channels), band = Math.round(18 * (window.devicePixelRatio || 1));
	  const laneH = (H - band) / n;
	  const probe = document.createElement("canvas").getContext("2d");
	  const rgb = wsbridge.traceColors.map((col) => {
	    probe.fillStyle = col; probe.fillRect(0, 0, 1, 1);
	    return Array.from(probe.getImageData(0, 0, 1, 1).data.slice(0, 3));
	  });
	  const cols = Array.from({ length: n }, () => new Uint8Array(W));
	  const fill = new Array(n).fill(0);
	  let pixels = 0;
	  for (let y = 0; y < H - band; y++) {
	    const lane = Math.min(n - 1, Math.floor(y / laneH));
	    for (let x = 0; x < W; x++) {
	      const i = (y * W + x) * 4;
	      for (const [r, g, b] of rgb) {
	        if (Math.abs(px[i] - r) + Math.abs(px[i + 1] - g) + Math.abs(px[i + 2] - b) < 40) { pixels++; fill[lane]++; cols[lane][x] = 1; break; }
	      }
	    }
	  }
	  const blank = wsbridge.view === "time" ? wsbridge.blank : [];
	  return { pixels, lanes: cols.map((a) => a.reduce((s, v) => s + v, 0) / W), fill: fill.map((f) => f / (W * laneH)),
	    drawn: cols.map((a, l) => a.reduce((s, v) => s + v, 0) / Math.max(1, W - (blank[l] || 0))) };
	})()`, &r)
	return r
}

// download clicks the element with this id, on which the page downloads a
// CSV file, and returns the file's path once Chromium says that download
// completed (the file appears, empty, before it is written). The file goes
// into a fresh directory, the download folder of this tab's browser
// context only; other tabs' downloads are told apart by their frame.
func (tb *tab) download(id string, timeout time.Duration) string {
	tb.t.Helper()
	dir := tb.t.TempDir()
	c := chromedp.FromContext(tb.ctx)
	frame := cdp.FrameID(c.Target.TargetID)
	var (
		mu   sync.Mutex
		ours = map[string]bool{}
	)
	completed := make(chan struct{}, 1)
	lctx, stop := context.WithCancel(tb.ctx)
	defer stop()
	if err := chromedp.ListenBrowser(lctx, func(ev any) {
		mu.Lock()
		defer mu.Unlock()
		switch e := ev.(type) {
		case *browser.EventDownloadWillBegin:
			if e.FrameID == frame {
				ours[e.GUID] = true
			}
		case *browser.EventDownloadProgress:
			if ours[e.GUID] && e.State == browser.DownloadProgressStateCompleted {
				select {
				case completed <- struct{}{}:
				default:
				}
			}
		}
	}); err != nil {
		tb.t.Fatalf("listen for downloads: %v", err)
	}
	_, err := chromedp.CallBrowser(tb.ctx, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{
		Behavior: browser.SetDownloadBehaviorBehaviorAllow, BrowserContextID: c.BrowserContextID, DownloadPath: dir, EventsEnabled: new(true)})
	if err != nil {
		tb.t.Fatalf("set download dir: %v", err)
	}
	// The page at the top, and still, before the real click: on a page taller
	// than the window a layout change below the controls can scroll it
	// (Chromium's scroll anchoring), moving the button under the pointer.
	var last, same string
	testsupport.Within(5*time.Second, 100*time.Millisecond, func() bool {
		var r string
		tb.eval(`(window.scrollY > 0 && window.scrollTo(0, 0), Math.round(window.scrollY) + ":" + Math.round(document.getElementById(`+strconv.Quote(id)+`).getBoundingClientRect().top))`, &r)
		if r == last {
			same += "."
		} else {
			last, same = r, ""
		}
		return len(same) >= 2 && strings.HasPrefix(r, "0:")
	})
	tb.run(chromedp.Click(chromedp.ID(id)))
	select {
	case <-completed:
	case <-time.After(timeout):
		var msgs []string
		tb.eval(`[...document.querySelectorAll("#log li")].map((li) => li.textContent)`, &msgs)
		entries, _ := os.ReadDir(dir)
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		tb.t.Fatalf("the download from #%s did not complete in %v (into %s, which holds %q); the page's messages: %q", id, timeout, dir, names, msgs)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.csv"))
	if len(files) != 1 {
		tb.t.Fatalf("%d CSV files downloaded into %s, want 1", len(files), dir)
	}
	return files[0]
}

func navigate(url string) chromedp.Action[chromedp.Void] { return chromedp.Navigate(url) }
