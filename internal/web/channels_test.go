package web

import (
	"context"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/wsbridge/wsbridge/internal/serve"
	"github.com/wsbridge/wsbridge/internal/testsupport"
)

// startDevices runs serve with a channel per --device spec, as
// `serve --device NAME=sim:... --device ...` does.
func startDevices(t *testing.T, specs ...string) *testsupport.Served {
	t.Helper()
	so := serve.DefaultOptions()
	for _, s := range specs {
		d, err := serve.ParseDevice(s)
		if err != nil {
			t.Fatalf("--device %s: %v", s, err)
		}
		so.Devices = append(so.Devices, d)
	}
	so.Relay.Listen = "127.0.0.1:0"
	so.Relay.Page = Handler()
	return testsupport.StartServe(t, func(ctx context.Context, out io.Writer) error {
		so.Out = out
		return serve.Run(ctx, so)
	})
}

// viewState is window.wsbridgeView: what the page shows.
type viewState struct {
	Mode     string   `json:"mode"`
	Channels []string `json:"channels"`
	All      []string `json:"all"`
	Cards    []struct {
		Name     string `json:"name"`
		State    string `json:"state"`
		Rate     string `json:"rate"`
		Clients  int    `json:"clients"`
		Gaps     int    `json:"gaps"`
		Samples  int64  `json:"samples"`
		Envelope int    `json:"envelope"`
		Drawn    int    `json:"drawn"`
	} `json:"cards"`
}

func (tb *tab) view() viewState {
	tb.t.Helper()
	var v viewState
	tb.eval(`JSON.parse(JSON.stringify(window.wsbridgeView))`, &v)
	return v
}

// sparkCoverage is, per overview card, the fraction of its trace canvas's
// pixel columns holding a trace pixel.
func (tb *tab) sparkCoverage() map[string]float64 {
	tb.t.Helper()
	var r map[string]float64
	tb.eval(`(() => {
	  const probe = document.createElement("canvas").getContext("2d");
	  probe.fillStyle = wsbridge.traceColors[0]; probe.fillRect(0, 0, 1, 1);
	  const [r, g, b] = probe.getImageData(0, 0, 1, 1).data;
	  const out = {};
	  for (const card of document.querySelectorAll("#cards .card")) {
	    const c = card.querySelector("canvas"), W = c.width, H = c.height, px = c.getContext("2d").getImageData(0, 0, W, H).data;
	    let cols = 0;
	    for (let x = 0; x < W; x++) {
	      for (let y = 0; y < H; y++) {
	        const i = (y * W + x) * 4;
	        if (Math.abs(px[i] - r) + Math.abs(px[i + 1] - g) + Math.abs(px[i + 2] - b) < 40) { cols++; break; }
	      }
	    }
	    out[card.dataset.name] = cols / W;
	  }
	  return out;
	})()`, &r)
	return r
}

func (tb *tab) shot(name string) {
	tb.t.Helper()
	if *shotDir == "" {
		return
	}
	buf, err := chromedp.Run(tb.ctx, chromedp.CaptureScreenshot())
	if err != nil {
		tb.t.Errorf("screenshot: %v", err)
		return
	}
	p := filepath.Join(*shotDir, name+".png")
	if os.WriteFile(p, buf, 0o644) == nil {
		tb.t.Logf("screenshot: %s", p)
	}
}

// TestPageOverviewOf12Channels serves 12 simulated devices and checks what
// a user sees at /: a card per channel with its state, rate, clients, gaps
// and a live trace drawn across (from an envelope stream where the rate is
// high), then two channels ticked and plotted together on one time axis,
// then one of them alone, and back to the overview.
func TestPageOverviewOf12Channels(t *testing.T) {
	parallelPage(t, heavy)
	var specs []string
	rates := []int{100, 1000, 8000, 16000, 48000, 2000}
	for i := range 12 {
		specs = append(specs, fmt.Sprintf("d%02d=sim:signal=sine,freq=%d,rate=%d,channels=%d", i+1, 1+i%3, rates[i%len(rates)], 1+i%2))
	}
	srv := startDevices(t, specs...)
	waitHistory(t, srv.URL+"/api/channels/d01", 5*100/1) // 5 s at 100 Hz (one sample per frame)
	tb := newTab(t)
	tb.run(chromedp.Navigate(srv.URL + "/"))
	tb.waitFor("12 cards with traces", `window.wsbridgeView && wsbridgeView.mode === "overview" && wsbridgeView.cards.length === 12 &&
		wsbridgeView.cards.every((c) => c.drawn > 2 && c.samples > 0 && c.state === "up")`, 30*time.Second)
	tb.waitFor("the traces across their canvases", `wsbridgeView.cards.every((c) => c.samples > 0)`, 5*time.Second)
	// Gaps are serve's device gaps (a starved simulator drops frames on a
	// loaded machine): a card shows the count of one of its polls.
	before := deviceGaps(t, srv.URL)
	time.Sleep(1500 * time.Millisecond)
	v := tb.view()
	after := deviceGaps(t, srv.URL)
	for _, c := range v.Cards {
		i, _ := strconv.Atoi(strings.TrimPrefix(c.Name, "d"))
		rate := rates[(i-1)%len(rates)]
		if c.Clients < 1 || !strings.Contains(c.Rate, fmtRateGo(rate)) || !strings.Contains(c.Rate, fmt.Sprintf("× %d ch", 1+(i-1)%2)) {
			t.Errorf("card %s: %+v, want rate %d S/s, %d ch, a client (this page)", c.Name, c, rate, 1+(i-1)%2)
		}
		if c.Gaps < before[c.Name] || c.Gaps > after[c.Name] {
			t.Errorf("card %s shows %d gaps, serve counted %d then %d", c.Name, c.Gaps, before[c.Name], after[c.Name])
		}
		if rate >= 8000 && c.Envelope == 0 {
			t.Errorf("card %s at %d S/s reads every sample for a 5 s trace: want an envelope stream", c.Name, rate)
		}
	}
	time.Sleep(200 * time.Millisecond) // a redraw with what arrived
	for name, f := range tb.sparkCoverage() {
		if f < 0.9 {
			t.Errorf("card %s: a trace in %.0f%% of its canvas's columns, want the 5 s drawn across (serve counted %d device gaps on it)",
				name, 100*f, after[name])
		}
	}
	tb.shot("overview-12")

	// Tick two cards and plot them together.
	tb.run(chromedp.Click(chromedp.CSS(`.card[data-name="d02"] .pick input`)), chromedp.Click(chromedp.CSS(`.card[data-name="d05"] .pick input`)),
		chromedp.Click(chromedp.ID("plot-together")))
	tb.waitFor("d02 and d05 together", `location.hash === "#d02+d05" && wsbridgeView.mode === "plot" && wsbridgeView.channels.join() === "d02,d05" &&
		Object.values(wsbridgeView.streams).every((s) => s.frames > 5)`, 15*time.Second)
	var together struct {
		Titles []string
		Rows   []string
		Meta   bool
	}
	tb.waitFor("both lanes drawn", `wsbridge.axisLabels.length === 3`, 10*time.Second)
	tb.eval(`({Titles: [...document.querySelectorAll("#channels .chan .name")].map((e) => e.textContent.trim()),
		Rows: [...document.querySelectorAll("#chan-rows tr")].map((r) => r.dataset.name), Meta: document.getElementById("meta").hidden})`, &together)
	if strings.Join(together.Titles, "|") != "d02 · ch0 (counts)|d02 · ch1 (counts)|d05 · ch0 (counts)" || strings.Join(together.Rows, ",") != "d02,d05" || !together.Meta {
		t.Errorf("plotted together: lanes %q, table rows %q, single-channel list hidden %v", together.Titles, together.Rows, together.Meta)
	}
	waitPlotted(t, tb, "d02 and d05 together", 10*time.Second)
	tb.shot("together")

	// One of them alone, from the table.
	tb.run(chromedp.Click(chromedp.CSS(`#chan-rows tr[data-name="d05"] a`)))
	tb.waitFor("d05 alone", `location.hash === "#d05" && wsbridgeView.channels.join() === "d05" && wsbridge.frames > 5 &&
		!document.getElementById("meta").hidden && document.getElementById("chan-table").hidden`, 10*time.Second)
	tb.run(chromedp.Click(chromedp.CSS(`#nav a`)))
	tb.waitFor("the overview again", `wsbridgeView.mode === "overview" && wsbridgeView.cards.length === 12`, 10*time.Second)
	tb.noProblems()
}

// fmtRateGo is the page's rate text for r samples per second.
func fmtRateGo(r int) string {
	if r >= 1000 {
		return strconv.FormatFloat(float64(r)/1000, 'g', 4, 64) + " kS/s"
	}
	return strconv.Itoa(r) + " S/s"
}

// TestPageOneChannelOpensItsView: with one device the page opens on its
// channel (no overview in the way, no navigation), and #/ still shows the
// overview with its one card.
func TestPageOneChannelOpensItsView(t *testing.T) {
	parallelPage(t, light)
	tb := newTab(t)
	srv := startServe(t, simOpts{Signal: "sine", Rate: 8000, Channels: 1})
	tb.open(srv.URL)
	v := tb.view()
	var nav bool
	tb.eval(`document.getElementById("nav").hidden`, &nav)
	if v.Mode != "plot" || strings.Join(v.Channels, ",") != "sim" || !nav {
		t.Errorf("view %+v, navigation hidden %v: want the channel sim at once, no navigation", v, nav)
	}
	tb.run(chromedp.Navigate(srv.URL + "/#/"))
	tb.waitFor("the overview's one card", `wsbridgeView.mode === "overview" && wsbridgeView.cards.length === 1 && wsbridgeView.cards[0].drawn > 0`, 10*time.Second)
	tb.run(chromedp.Click(chromedp.CSS(`.card h3 a`)))
	tb.waitFor("the channel again", `location.hash === "#sim" && wsbridgeView.mode === "plot" && wsbridge.frames > 5`, 10*time.Second)
	tb.noProblems()
}

// TestPageEnvelopesForLongWindows: a long window is drawn from an envelope
// stream (fewer bytes, the same picture), the spectrum and the CSV switch
// to every sample, and the counter's values stay exact through the
// switches.
func TestPageEnvelopesForLongWindows(t *testing.T) {
	parallelPage(t, light)
	tb := newTab(t)
	srv := startServe(t, simOpts{Signal: "counter", Rate: 16000, Channels: 2})
	waitHistory(t, srv.URL+"/api/info", 300) // 3 s of 10 ms frames
	tb.open(srv.URL)
	full := bytesPerSecond(tb)
	tb.run(setWindow("2"))
	tb.waitFor("an envelope stream", `wsbridge.envelope >= 8 && wsbridge.envelopes > 5`, 10*time.Second)
	env := bytesPerSecond(tb)
	var n int
	tb.eval(`wsbridge.envelope`, &n)
	t.Logf("16 kHz x 2 ch: %.0f B/s of every sample in a 100 ms window, %.0f B/s of envelopes of %d for a 2 s window", full, env, n)
	if env >= full/2 {
		t.Errorf("envelopes of %d cost %.0f B/s, every sample %.0f: want well under half", n, env, full)
	}
	h := tb.hook()
	if h.Restarts != 0 || h.LostFrames != 0 || h.BadPackets != 0 {
		t.Errorf("after switching to envelopes: %+v, want no restart, loss or bad packet", h)
	}
	waitPlotted(t, tb, "2 s window from envelopes", 10*time.Second)

	// The spectrum needs every sample: the stream switches, the window
	// comes back from serve's history.
	tb.run(chromedp.KeyEvent("f"))
	tb.waitFor("every sample for the spectrum", `wsbridge.envelope === 0 && wsbridge.peaks.length === 2 && wsbridge.peaks.every((p) => p)`, 10*time.Second)
	tb.run(chromedp.KeyEvent("f"))
	tb.waitFor("envelopes again", `wsbridge.envelope >= 8`, 10*time.Second)

	// The CSV of the 2 s window holds every sample, exact.
	b, err := os.ReadFile(tb.download("csv", 20*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	if rows := len(lines) - 1; rows != 32000 {
		t.Errorf("CSV of a 2 s window at 16 kHz has %d rows, want 32000", rows)
	}
	prev, holes := math.NaN(), 0
	for i, l := range lines[1:] {
		f := strings.Split(l, ",")
		if len(f) != 3 || f[1] == "" {
			holes++
			continue
		}
		a, _ := strconv.Atoi(f[1])
		c, _ := strconv.Atoi(f[2])
		if int16(c-a) != 1 || (!math.IsNaN(prev) && int16(a) != int16(int(prev)+1)) {
			t.Fatalf("CSV row %d %q after ch1 %v: want consecutive counter values, ch2 = ch1 + 1", i+1, l, prev)
		}
		prev = float64(a)
	}
	if holes > 0 {
		t.Errorf("CSV has %d empty rows: the window was not fetched whole at full rate", holes)
	}
	tb.waitFor("envelopes after the download", `wsbridge.envelope >= 8`, 10*time.Second)
	if h := tb.hook(); h.Restarts != 0 || h.LostFrames != 0 {
		t.Errorf("after the switches: restarts %d, lost %d", h.Restarts, h.LostFrames)
	}
	tb.noProblems()
}

// bytesPerSecond measures the page's received bytes over a second.
func bytesPerSecond(tb *tab) float64 {
	tb.t.Helper()
	var b0, b1 float64
	tb.eval(`wsbridge.bytes`, &b0)
	t0 := time.Now()
	time.Sleep(time.Second)
	tb.eval(`wsbridge.bytes`, &b1)
	return (b1 - b0) / time.Since(t0).Seconds()
}

// deviceGaps reads each channel's device_gaps_total from /api/channels.
func deviceGaps(t *testing.T, url string) map[string]int {
	t.Helper()
	var l struct {
		Channels []struct {
			Name     string             `json:"name"`
			Counters map[string]float64 `json:"counters"`
		} `json:"channels"`
	}
	testsupport.GetJSON(t, url+"/api/channels", &l)
	out := map[string]int{}
	for _, c := range l.Channels {
		out[c.Name] = int(c.Counters["device_gaps_total"])
	}
	return out
}
