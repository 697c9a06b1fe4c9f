package web

import (
	"math"
	"regexp"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestPageShowsA440HzTone is what a user checks with the simulator's
// tone at 48 kHz: the automatic window (20 ms) shows its 8.8 waves (not a
// solid band), the Min/Max boxes say what the axis drawn beside them says
// as the range moves, and the spectrum reads out the tone's frequency and
// level (within a hundredth of its 2.9 Hz bins), also under the pointer.
func TestPageShowsA440HzTone(t *testing.T) {
	parallelPage(t, heavy)
	tb := newTab(t)
	tb.spyOnText()
	srv := startServe(t, simOpts{Signal: "sine", Rate: 48000, Channels: 2})
	tb.open(srv.URL)

	tb.waitFor("the automatic 20 ms window", `wsbridge.windowAuto && wsbridge.windowS === 0.02 &&
		document.getElementById("window").selectedOptions[0].textContent === "Auto (20 ms)"`, 3*time.Second)
	tb.waitFor("a full window drawn", `wsbridge.samples > 48000 * 0.1 && wsbridge.axisLabels.length === 2`, 5*time.Second)
	tb.redraw(2)
	assertPlotted(t, tb, "440 Hz, automatic window")
	assertWaves(t, tb, 440)
	for range 3 {
		assertBoxesMatchAxis(t, tb, 2, false)
		tb.redraw(3)
	}

	tb.run(chromedp.KeyEvent("f"))
	tb.waitFor("the spectrum's peaks", `wsbridge.view === "spectrum" && wsbridge.peaks.length === 2 && wsbridge.peaks.every((p) => p)`, 3*time.Second)
	tb.waitFor("a full-length FFT", `wsbridge.samples > 48000 * 0.6`, 5*time.Second)
	tb.redraw(2)
	h := tb.hook()
	tolHz, tolDB := 0.03, 0.1
	if h.LostFrames > 0 { // holes in the transform's samples (a starved simulator) smear the spectrum
		t.Logf("%d frames lost (%v): tolerances widened", h.LostFrames, h.GapsByReason)
		tolHz, tolDB = 1, 1.5
	}
	var peaks []struct{ Hz, DB float64 }
	tb.eval(`wsbridge.peaks.map((p) => ({Hz: p.hz, DB: p.db}))`, &peaks)
	level := 20 * math.Log10(0.5*32767) // --sim-amplitude 0.5 of i16 full scale
	for i, p := range peaks {
		if math.Abs(p.Hz-440) > tolHz || math.Abs(p.DB-level) > tolDB {
			t.Errorf("channel %d: peak %.3f Hz at %.3f dB, want 440 Hz at %.2f dB", i, p.Hz, p.DB, level)
		}
	}
	if r := tb.text("readout"); !regexp.MustCompile(`^\S+ \(counts\): peak 440\.0 Hz at 84\.3 dB · \S+ \(counts\): peak 440\.0 Hz at 84\.3 dB$`).MatchString(r) && h.LostFrames == 0 {
		t.Errorf("readout %q does not name the peaks", r)
	}

	// The pointer at 1 kHz (it may read a spur of the tone's quantization
	// within 4 px, 80 Hz), then on the peak.
	r := pointerAt(t, tb, "mouse", 1000.0/24000, 0)
	if math.Abs(r.Hz-1000) > 100 || r.DB > level-60 {
		t.Errorf("pointer at 1 kHz reads %.1f Hz at %.1f dB, want about 1 kHz far below the tone's %.1f dB", r.Hz, r.DB, level)
	}
	var f float64 // the middle of the pixel column where the peak is drawn
	tb.eval(`(() => { const w = document.getElementById("plot").width; return (Math.floor(wsbridge.peaks[0].hz / 24000 * w) + 0.5) / w; })()`, &f)
	r = pointerAt(t, tb, "mouse", f, 0)
	if math.Abs(r.Hz-440) > 0.1+tolHz || math.Abs(r.DB-level) > 0.1+tolDB || !r.Peak {
		t.Errorf("pointer on the peak reads %.1f Hz at %.1f dB (peak %v), want the peak: 440.0 Hz at %.1f dB", r.Hz, r.DB, r.Peak, level)
	}
	tb.run(chromedp.MouseEvent(chromedp.MouseMoved, 5, 5)) // off the plot
	tb.waitFor("the cursor readout gone", `!wsbridge.cursor.includes("cursor")`, 3*time.Second)
	tb.noProblems()
}

var cursorRe = regexp.MustCompile(`cursor ([\d.]+) (k?Hz): (\x{2212}?[\d.]+) dB( \(peak\))?`)
