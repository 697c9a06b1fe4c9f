package web

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestPageShowsA440HzTone is what a user checks with the simulator's
// default tone at 48 kHz: the automatic window (20 ms) shows the wave (not a solid
// band), the Min/Max boxes say what the axis says, and the spectrum reads
// out the tone's frequency and level, also under the pointer.
func TestPageShowsA440HzTone(t *testing.T) {
	tb := newTab(t)
	srv := startServe(t, simOpts{Signal: "sine", Rate: 48000, Channels: 2})
	tb.open(srv.URL)

	tb.waitFor("the automatic 20 ms window", `wsbridge.windowAuto && wsbridge.windowS === 0.02 &&
		document.getElementById("window").selectedOptions[0].textContent === "Auto (20 ms)"`, 3*time.Second)
	tb.waitFor("a full window drawn", `wsbridge.samples > 48000 * 0.1 && wsbridge.axisLabels.length === 2`, 5*time.Second)
	assertPlotted(t, tb, "440 Hz, automatic window")
	c := tb.coverage()
	t.Logf("trace pixels fill %.3v of each lane", c.Fill)
	for i, f := range c.Fill {
		// 9 cycles across the canvas: a line, a few % of the lane; 440
		// cycles in a 1 s window would paint a band over 90% of it.
		if f > 0.3 {
			t.Errorf("lane %d: the trace fills %.0f%% of the lane: a solid band, not a wave", i, 100*f)
		}
	}

	for range 3 { // the range moves with the data: boxes and axis move together
		assertBoxesMatchAxis(t, tb)
		var drawn int
		tb.eval(`wsbridge.drawn`, &drawn)
		tb.waitFor("another redraw", fmt.Sprintf(`wsbridge.drawn > %d`, drawn+3), 3*time.Second)
	}

	tb.run(chromedp.KeyEvent("f"))
	tb.waitFor("the spectrum's peaks", `wsbridge.view === "spectrum" && wsbridge.peaks.length === 2 && wsbridge.peaks.every((p) => p)`, 3*time.Second)
	tb.waitFor("a full-length FFT", `wsbridge.samples > 48000 * 0.6`, 5*time.Second)
	var drawn int
	tb.eval(`wsbridge.drawn`, &drawn)
	tb.waitFor("a redraw", fmt.Sprintf(`wsbridge.drawn > %d`, drawn+1), 3*time.Second)
	var peaks []struct{ Hz, DB float64 }
	tb.eval(`wsbridge.peaks.map((p) => ({Hz: p.hz, DB: p.db}))`, &peaks)
	level := 20 * math.Log10(0.5*32767) // --sim-amplitude 0.5 of i16 full scale
	for i, p := range peaks {
		if math.Abs(p.Hz-440) > 1 || math.Abs(p.DB-level) > 1 {
			t.Errorf("channel %d: peak %.2f Hz at %.2f dB, want 440 Hz at %.1f dB", i, p.Hz, p.DB, level)
		}
	}
	if r := tb.text("readout"); !regexp.MustCompile(`peak 44\d\.\d Hz at 8\d\.\d dB`).MatchString(r) {
		t.Errorf("readout %q does not name the peak", r)
	}

	// The pointer at 1 kHz, then on the peak.
	hz, db := pointAt(t, tb, 1000.0/24000)
	if math.Abs(hz-1000) > 40 || db > level-20 {
		t.Errorf("pointer at 1 kHz reads %.1f Hz at %.1f dB, want about 1 kHz far below the tone's %.1f dB", hz, db, level)
	}
	var f float64 // the middle of the pixel column where the peak is drawn
	tb.eval(`(() => { const w = document.getElementById("plot").width; return (Math.floor(wsbridge.peaks[0].hz / 24000 * w) + 0.5) / w; })()`, &f)
	hz, db = pointAt(t, tb, f)
	if math.Abs(hz-440) > 40 || math.Abs(db-peaks[0].DB) > 3 {
		t.Errorf("pointer on the peak reads %.1f Hz at %.1f dB, want about 440 Hz at %.1f dB", hz, db, peaks[0].DB)
	}
	tb.run(chromedp.MouseEvent(chromedp.MouseMoved, 5, 5)) // off the plot
	tb.waitFor("the cursor readout gone", `!wsbridge.cursor.includes("cursor")`, 3*time.Second)
	tb.noProblems()
}

// assertBoxesMatchAxis reads, in one task of the page, each channel's
// Min/Max boxes and the range labels drawn on its lane: they must be the
// same text, and the range in use.
func assertBoxesMatchAxis(t *testing.T, tb *tab) {
	t.Helper()
	var got []struct {
		Boxes  [2]string
		Labels [2]string
		Range  [2]float64
	}
	tb.eval(`[...document.querySelectorAll("#channels .chan")].map((row, c) => ({
	  Boxes: [row.querySelector('[data-k="min"]').value, row.querySelector('[data-k="max"]').value],
	  Labels: wsbridge.axisLabels[c], Range: wsbridge.ranges[c] }))`, &got)
	if len(got) != 2 {
		t.Fatalf("%d channel rows, want 2", len(got))
	}
	for c, g := range got {
		lo, _ := strconv.ParseFloat(g.Boxes[0], 64)
		hi, _ := strconv.ParseFloat(g.Boxes[1], 64)
		if g.Boxes != g.Labels || lo != g.Range[0] || hi != g.Range[1] {
			t.Errorf("channel %d: Min/Max boxes %q, axis labels %q, range in use %v: want all the same", c, g.Boxes, g.Labels, g.Range)
		}
	}
}

var cursorRe = regexp.MustCompile(`cursor ([\d.]+) (k?Hz): (\x{2212}?[\d.]+) dB`)

// pointAt moves the pointer over the plot at fraction f of its width (of
// the canvas inside its border) and returns the frequency and level the
// readout shows for the first channel.
func pointAt(t *testing.T, tb *tab, f float64) (hz, db float64) {
	t.Helper()
	var r struct{ X, Y float64 }
	tb.eval(`(() => { const c = document.getElementById("plot"), b = c.getBoundingClientRect();
	  return {X: b.left + c.clientLeft + `+strconv.FormatFloat(f, 'f', -1, 64)+` * c.clientWidth, Y: b.top + b.height / 4}; })()`, &r)
	var before string
	tb.eval(`wsbridge.cursor`, &before)
	tb.run(chromedp.MouseEvent(chromedp.MouseMoved, r.X, r.Y))
	tb.waitFor("the cursor readout", `wsbridge.cursor.includes("cursor") && wsbridge.cursor !== `+strconv.Quote(before), 3*time.Second)
	text := tb.text("readout")
	m := cursorRe.FindStringSubmatch(text)
	if m == nil {
		t.Fatalf("readout %q has no cursor reading", text)
	}
	hz, _ = strconv.ParseFloat(m[1], 64)
	if m[2] == "kHz" {
		hz *= 1000
	}
	db, _ = strconv.ParseFloat(regexp.MustCompile("\u2212").ReplaceAllString(m[3], "-"), 64)
	return hz, db
}
