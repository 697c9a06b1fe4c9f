package web

import (
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"github.com/wsbridge/wsbridge/internal/testsupport"
)

var (
	screenshotPath = flag.String("screenshot", "", "also write the live view screenshot to this PNG file (e.g. ../../docs/img/live-view.png)")
	shotDir        = flag.String("shots", "", "write the screenshots that tests check into this directory")
)

// open loads the page (base URL plus optional path and query) and waits
// until frames flow.
func (tb *tab) open(url string, pathQuery ...string) {
	tb.t.Helper()
	tb.run(chromedp.Navigate(url + strings.Join(append([]string{"/"}, pathQuery...), "")))
	tb.waitFor("connected with frames", `window.wsbridge && wsbridge.state === "connected" && wsbridge.frames > 10`, 15*time.Second)
}

func (tb *tab) text(id string) string {
	tb.t.Helper()
	var s string
	tb.eval(`document.getElementById(`+strconv.Quote(id)+`).textContent`, &s)
	return s
}

// rateOver measures the sample instants per second the page received
// over d of wall time.
func (tb *tab) rateOver(d time.Duration) float64 {
	tb.t.Helper()
	time.Sleep(300 * time.Millisecond) // past the history replay that fills the first window
	h0, t0 := tb.hook(), time.Now()
	time.Sleep(d)
	h1 := tb.hook()
	return float64(h1.Samples-h0.Samples) / time.Since(t0).Seconds()
}

func TestPageStreamsPlotsAndPauses(t *testing.T) {
	parallelPage(t, heavy)
	tb := newTab(t)
	srv := startServe(t, simOpts{Signal: "sine", Rate: 48000, Channels: 2})
	tb.open(srv.URL)

	h0 := tb.hook()
	got := tb.rateOver(1500 * time.Millisecond)
	t.Logf("page received %.0f samples/s of 48000", got) // a figure: a loaded machine delays delivery
	h := tb.hook()
	if h.Samples <= h0.Samples {
		t.Errorf("page stopped receiving: %d samples before and after 1.5 s", h.Samples)
	}
	if h.FirstSeq == nil || h.LastSeq == nil || int64(*h.LastSeq-*h.FirstSeq)+1-h.LostFrames != h.Frames {
		t.Errorf("page has %d frames and counts %d lost in seqs %s..%s: each seq must be received once or counted lost",
			h.Frames, h.LostFrames, seqText(h.FirstSeq), seqText(h.LastSeq))
	}
	if h.BadPackets != 0 || h.CRCErrors != 0 {
		t.Errorf("bad packets %d (CRC %d) on a clean local stream, want 0", h.BadPackets, h.CRCErrors)
	}
	// A starved machine can make the simulator drop frames (it never blocks
	// for long); the page must then have them announced by serve, not guessed.
	if h.Gaps != 0 {
		t.Logf("%d gaps, %d frames lost, by reason %v (a loaded machine)", h.Gaps, h.LostFrames, h.GapsByReason)
		if h.GapsByReason["unannounced"] != 0 {
			t.Errorf("gaps by reason %v: a seq jump that serve did not announce", h.GapsByReason)
		}
	}
	if h.Rate != 48000 || h.Channels != 2 {
		t.Errorf("page shows rate %v channels %d, want 48000 and 2", h.Rate, h.Channels)
	}
	if dev := tb.text("m-device"); !strings.Contains(dev, "wsbridge-sim") {
		t.Errorf("device shown as %q, want the simulator's name", dev)
	}
	if sps := tb.text("m-sps"); !strings.HasSuffix(sps, "kS/s") {
		t.Errorf("received rate shown as %q, want kS/s", sps)
	}
	assertPlotted(t, tb, "time view, 1 s window")

	// Space pauses: nothing is drawn while frames keep arriving.
	tb.run(chromedp.KeyEvent(" "))
	tb.waitFor("paused", `wsbridge.paused === true`, 2*time.Second)
	time.Sleep(100 * time.Millisecond)
	p0 := tb.hook()
	time.Sleep(800 * time.Millisecond)
	p1 := tb.hook()
	if p1.Drawn != p0.Drawn {
		t.Errorf("paused, yet the plot was redrawn %d times", p1.Drawn-p0.Drawn)
	}
	if p1.Frames <= p0.Frames {
		t.Errorf("paused, frames stopped arriving (%d -> %d); pause must only freeze the plot", p0.Frames, p1.Frames)
	}
	if b := tb.text("pause"); b != "Resume" {
		t.Errorf("pause button says %q while paused, want Resume", b)
	}
	tb.run(chromedp.Click(chromedp.ID("pause")))
	tb.waitFor("drawing again", fmt.Sprintf(`!wsbridge.paused && wsbridge.drawn > %d`, p1.Drawn+5), 3*time.Second)

	tb.run(chromedp.KeyEvent("f"))
	tb.waitFor("spectrum view", `wsbridge.view === "spectrum"`, 2*time.Second)
	time.Sleep(300 * time.Millisecond)
	assertPlotted(t, tb, "spectrum view")
	tb.run(chromedp.KeyEvent("f"))

	tb.run(chromedp.SetValue(chromedp.ID("window"), "0.01"), chromedp.Evaluate[chromedp.Void](
		`document.getElementById("window").dispatchEvent(new Event("change"))`))
	tb.waitFor("10 ms window", `wsbridge.windowS === 0.01`, 2*time.Second)
	time.Sleep(500 * time.Millisecond)
	assertPlotted(t, tb, "time view, 10 ms window")
	tb.run(setWindow("auto"))
	tb.waitFor("the automatic window", `wsbridge.windowAuto && wsbridge.windowS === 0.02`, 2*time.Second)
	var drawn int
	tb.eval(`wsbridge.drawn`, &drawn)
	tb.waitFor("a redraw", fmt.Sprintf(`wsbridge.drawn > %d`, drawn+2), 3*time.Second)
	saveScreenshot(t, tb)
	tb.noProblems()
}

// waitPlotted waits (up to d) until every lane shows a trace across at
// least 90% of its pixel columns, then checks it with assertPlotted: a
// stream that just switched resolution fetches its window again.
func waitPlotted(t *testing.T, tb *tab, what string, d time.Duration) {
	t.Helper()
	testsupport.Within(d, 100*time.Millisecond, func() bool {
		lanes, _ := tb.plotCoverage()
		for _, f := range lanes {
			if f < 0.9 {
				return false
			}
		}
		return len(lanes) > 0
	})
	assertPlotted(t, tb, what)
}

// assertPlotted fails unless every channel's lane shows a trace: at least
// 90% of its pixel columns hold a pixel in a trace color.
func assertPlotted(t *testing.T, tb *tab, what string) {
	t.Helper()
	lanes, pixels := tb.plotCoverage()
	t.Logf("%s: %d trace pixels; columns with trace per lane %.3v", what, pixels, lanes)
	if len(lanes) == 0 {
		t.Errorf("%s: no lanes", what)
	}
	for i, f := range lanes {
		if f < 0.9 {
			t.Errorf("%s: lane %d has a trace in only %.0f%% of its pixel columns: the plot is (partly) blank", what, i, 100*f)
		}
	}
}

func saveScreenshot(t *testing.T, tb *tab) {
	t.Helper()
	tb.eval(`document.activeElement.blur(); window.scrollTo(0, 0); new Promise((ok) => setTimeout(ok, 300))`, nil)
	buf, err := chromedp.Run(tb.ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	paths := []string{filepath.Join(t.TempDir(), "live-view.png")}
	if *screenshotPath != "" {
		paths = append(paths, *screenshotPath)
	}
	for _, p := range paths {
		writeFile(t, p, buf)
		t.Logf("screenshot: %s", p)
	}
}

// TestPageDecodesCounterExactly checks the values the page decoded (and
// would plot and export) against the simulator's counter: channel c at
// instant i is int16(i+c).
func TestPageDecodesCounterExactly(t *testing.T) {
	parallelPage(t, light)
	tb := newTab(t)
	srv := startServe(t, simOpts{Signal: "counter", Rate: 8000, Channels: 2})
	tb.open(srv.URL)
	tb.waitFor("2000 samples", `wsbridge.samples > 2000`, 5*time.Second)
	tb.run(chromedp.KeyEvent(" ")) // pause so both tails are the same instants
	tb.waitFor("paused", `wsbridge.paused`, 2*time.Second)
	// NaN (a gap's hole, JSON null) keeps its place, so sample k of the
	// tail is always counter value first+k: exact across any gap.
	var tails [2][]*float64
	tb.eval(`[wsbridge.tail(0, 2000), wsbridge.tail(1, 2000)]`, &tails)
	held, first := 0, -1
	for k := range tails[0] {
		a, b := tails[0][k], tails[1][k]
		if a == nil || b == nil {
			continue
		}
		held++
		if first < 0 {
			first = k
		}
		if int16(*b)-int16(*a) != 1 {
			t.Fatalf("instant %d: ch2 %v ch1 %v, want ch2 = ch1 + 1", k, *b, *a)
		}
		if want := int16(int(*tails[0][first]) + k - first); int16(*a) != want {
			t.Fatalf("instant %d: ch1 %v, want %d (counter from %v at instant %d)", k, *a, want, *tails[0][first], first)
		}
	}
	if held < 1500 {
		t.Fatalf("only %d of the newest 2000 instants held", held)
	}
	checkCSV(t, tb)
	tb.noProblems()
}

// checkCSV downloads the visible window (100 ms) as CSV through the button
// and checks header, row count, time step and the counter values.
func checkCSV(t *testing.T, tb *tab) {
	tb.run(chromedp.SetValue(chromedp.ID("window"), "0.1"), chromedp.Evaluate[chromedp.Void](
		`document.getElementById("window").dispatchEvent(new Event("change"))`))
	b, err := os.ReadFile(tb.download("csv", 20*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	if !strings.HasPrefix(lines[0], "time_s,") || len(strings.Split(lines[0], ",")) != 3 {
		t.Fatalf("CSV header %q, want time_s and two channel columns", lines[0])
	}
	if rows := len(lines) - 1; rows != 800 {
		t.Fatalf("CSV has %d rows for 100 ms at 8000 S/s, want 800", rows)
	}
	var t0, v0 float64
	first := -1
	for i, l := range lines[1:] {
		f := strings.Split(l, ",")
		if f[1] == "" || f[2] == "" {
			continue // a hole (gap)
		}
		ts, _ := strconv.ParseFloat(f[0], 64)
		a, _ := strconv.Atoi(f[1])
		b, _ := strconv.Atoi(f[2])
		if first < 0 {
			first, t0, v0 = i, ts, float64(a)
		}
		wantV := int16(int(v0) + i - first)
		wantT := t0 + float64(i-first)/8000
		if int16(b-a) != 1 || int16(a) != wantV || math.Abs(ts-wantT) > 2e-6 {
			t.Fatalf("CSV row %d %q: want time %.6f, ch1 %d, ch2 = ch1 + 1", i+1, l, wantT, wantV)
		}
	}
	if first < 0 || first > 100 {
		t.Fatalf("CSV rows hold no samples near the start (first at row %d)", first+1)
	}
}

func TestPageReconnectsAfterServeRestart(t *testing.T) {
	parallelPage(t, light)
	tb := newTab(t)
	first := startServe(t, simOpts{Signal: "sine", Rate: 16000, Channels: 1})
	addr := strings.TrimPrefix(first.URL, "http://")
	tb.open(first.URL)
	var epoch1 string
	tb.eval(`wsbridge.epoch`, &epoch1)
	if len(epoch1) != 8 {
		t.Errorf("epoch %q from the first serve's hello, want 8 hex digits", epoch1)
	}

	first.Stop()
	// serve says it is stopping before it closes: the banner says so.
	tb.waitFor("reconnecting banner", `wsbridge.state === "reconnecting" && wsbridge.stopping && !document.getElementById("banner").hidden &&
		document.getElementById("banner-text").textContent.startsWith("Serve shut down")`, 5*time.Second)
	time.Sleep(500 * time.Millisecond)
	h := tb.hook()

	second := startServe(t, simOpts{Addr: addr, Signal: "sine", Rate: 16000, Channels: 1})
	waitHTTP(t, second.URL)
	tb.waitFor("connected again with new frames", fmt.Sprintf(
		`wsbridge.state === "connected" && wsbridge.connects >= 2 && wsbridge.frames > %d`, h.Frames+20), 20*time.Second)
	tb.waitFor("banner gone", `document.getElementById("banner").hidden`, time.Second)
	after := tb.hook()
	t.Logf("before restart %+v\nafter %+v", h, after)
	if after.BadPackets != 0 {
		t.Errorf("%d bad packets after the restart", after.BadPackets)
	}
	// The page resumed with the first serve's epoch: the second answers with
	// a restart status at once, and the page counts exactly one restart,
	// names both epochs, and counts no loss it cannot explain.
	var r struct {
		Restarts int
		Epoch    string
		Log      []struct{ From, To string }
		Shown    string
		Notes    []string
	}
	tb.waitFor("the restart shown", `document.getElementById("m-restarts").textContent === "1"`, 3*time.Second)
	tb.eval(`({Restarts: wsbridge.restarts, Epoch: wsbridge.epoch, Log: wsbridge.restartLog().map((x) => ({From: x.from, To: x.to})),
		Shown: document.getElementById("m-restarts").title,
		Notes: [...document.querySelectorAll("#log li")].map((li) => li.textContent).filter((t) => t.includes("restart:"))})`, &r)
	if r.Restarts != 1 || r.Epoch == epoch1 || len(r.Epoch) != 8 || len(r.Log) != 1 || r.Log[0].From != epoch1 || r.Log[0].To != r.Epoch {
		t.Errorf("after serve restarted: restarts %d, epoch %q (was %q), restart log %+v: want one restart from the old epoch to the new",
			r.Restarts, r.Epoch, epoch1, r.Log)
	}
	if len(r.Notes) != 1 || !strings.Contains(r.Notes[0], "epoch "+epoch1+" ended at seq") || !strings.Contains(r.Notes[0], "epoch "+r.Epoch) {
		t.Errorf("restart messages %q: want one line naming both epochs", r.Notes)
	}
	if !strings.Contains(r.Shown, r.Epoch) {
		t.Errorf("Restarts tooltip %q does not name the epoch", r.Shown)
	}
	if after.GapsByReason["unannounced"] != 0 {
		t.Errorf("gaps by reason %v after the restart: a jump nothing explained", after.GapsByReason)
	}
	tb.noProblems()
}

func TestPageAsksForTokenOnce(t *testing.T) {
	parallelPage(t, light)
	tb := newTab(t)
	const token = "s3cret-t0ken"
	srv := startServe(t, simOpts{Signal: "sine", Rate: 8000, Channels: 1, Token: token})
	tb.run(chromedp.Navigate(srv.URL + "/"))
	tb.waitFor("token form", `wsbridge.state === "token" && !document.getElementById("token-form").hidden`, 10*time.Second)

	tb.run(chromedp.SendKeys(chromedp.ID("token-input"), "wrong-token"), chromedp.Click(chromedp.CSS("#token-form button")))
	tb.waitFor("token refused", `wsbridge.state === "token" && !document.getElementById("token-form").hidden &&
		document.getElementById("token-why").textContent.includes("refused")`, 10*time.Second)

	tb.run(chromedp.SendKeys(chromedp.ID("token-input"), token), chromedp.Click(chromedp.CSS("#token-form button")))
	tb.waitFor("connected with the token", `wsbridge.state === "connected" && wsbridge.frames > 5`, 10*time.Second)
	var stored string
	tb.eval(`sessionStorage.getItem("wsbridge.token")`, &stored)
	if stored != token {
		t.Errorf("sessionStorage holds %q, want the token", stored)
	}

	// A reload in the same tab reconnects without asking again.
	tb.run(chromedp.Reload())
	tb.waitFor("connected after reload", `window.wsbridge && wsbridge.state === "connected" && wsbridge.frames > 5`, 10*time.Second)
	var hidden bool
	tb.eval(`document.getElementById("token-form").hidden`, &hidden)
	if !hidden {
		t.Error("the token form is shown again after a reload")
	}
	tb.noProblems()
}

func TestPageFitsPhoneInDarkScheme(t *testing.T) {
	parallelPage(t, light)
	tb := newTab(t)
	srv := startServe(t, simOpts{Signal: "sine", Rate: 8000, Channels: 2})
	_, err := chromedp.Call(tb.ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
		Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: "dark"}}})
	if err != nil {
		t.Fatal(err)
	}
	tb.run(chromedp.EmulateViewport(375, 740, chromedp.EmulateMobile))
	waitHistory(t, srv.URL+"/api/info", 50) // serve's history holds more than the window (50 ms at 8 kHz on a phone: 5 frames)
	tb.spyOnText()
	tb.open(srv.URL)
	// The first window is filled from serve's history (?since on the first
	// connection), not over the next 200 ms: the first frame the page got
	// is older than serve's next live frame when it said hello. How long
	// the fill took is a figure, not a pass mark.
	t0 := time.Now()
	tb.waitFor("the first window filled", `wsbridge.samples >= wsbridge.windowS * 8000`, 5*time.Second)
	t.Logf("first window full %v after the page had its first frames", time.Since(t0).Round(time.Millisecond))
	var seqs struct{ First, Start, Live *uint32 }
	tb.eval(`({First: wsbridge.firstSeq, Start: wsbridge.startSeq, Live: wsbridge.liveSeq})`, &seqs)
	if seqs.First == nil || seqs.Start == nil || seqs.Live == nil || *seqs.First != *seqs.Start || *seqs.Start+5 > *seqs.Live {
		t.Errorf("page started at seq %s (asked from %s), serve's next live seq was %s: want a start at least a window (5 frames) back in history",
			seqText(seqs.First), seqText(seqs.Start), seqText(seqs.Live))
	}
	// A narrow plot's automatic window holds 250 instants (50 ms at 8 kHz),
	// not 700: the 440 Hz tone is 22 waves across the phone, not 44.
	tb.waitFor("the phone's automatic window", `wsbridge.windowAuto && wsbridge.windowS === 0.05`, 2*time.Second)
	tb.redraw(2)
	assertWaves(t, tb, 440)
	var layout struct {
		ScrollWidth, ClientWidth int
		Background               string
	}
	tb.eval(`({ScrollWidth: document.documentElement.scrollWidth, ClientWidth: document.documentElement.clientWidth,
		Background: getComputedStyle(document.body).backgroundColor})`, &layout)
	if layout.ScrollWidth > layout.ClientWidth {
		t.Errorf("page is %d px wide on a %d px phone screen: it scrolls sideways", layout.ScrollWidth, layout.ClientWidth)
	}
	if layout.Background != "rgb(17, 20, 24)" {
		t.Errorf("dark scheme: body background %s, want the dark rgb(17, 20, 24)", layout.Background)
	}
	assertPlotted(t, tb, "phone, dark")
	if buf, err := chromedp.Run(tb.ctx, chromedp.CaptureScreenshot()); err == nil {
		p := filepath.Join(t.TempDir(), "phone-dark.png")
		writeFile(t, p, buf)
		t.Logf("screenshot: %s", p)
	}
	tb.noProblems()
}

// setWindow picks a time window (seconds, as in the select's values).
func setWindow(v string) chromedp.Action[chromedp.Void] {
	return chromedp.Steps(chromedp.SetValue(chromedp.ID("window"), v), chromedp.Evaluate[chromedp.Void](
		`document.getElementById("window").dispatchEvent(new Event("change"))`))
}

// getJSON GETs url and decodes its JSON body into out.
// info is what the tests read of an info document (/api/info or
// /api/channels/NAME).
type info struct {
	Seq      uint32             `json:"seq"`
	Rate     float64            `json:"rate"`
	Counters map[string]float64 `json:"counters"`
	History  struct {
		Frames int `json:"frames"`
	} `json:"history"`
}

// apiInfo reads an info document: /api/info or /api/channels/NAME.
func apiInfo(t *testing.T, url string) (in info) {
	t.Helper()
	testsupport.GetJSON(t, url, &in)
	return in
}

// waitHistory waits until the history of the channel whose info document
// is at url holds at least frames frames.
func waitHistory(t *testing.T, url string, frames int) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for apiInfo(t, url).History.Frames < frames {
		if time.Now().After(deadline) {
			t.Fatalf("serve's history holds fewer than %d frames after 20 s", frames)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// seqText shows a seq the page may not have yet.
func seqText(p *uint32) string {
	if p == nil {
		return "none"
	}
	return strconv.FormatUint(uint64(*p), 10)
}
