package web

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// What the page reads out (the lanes' ranges, the spectrum's peaks and
// the cursor) is checked against what it drew: textSpy records the text
// drawn on the plot's canvas in each animation frame, and periods counts
// the waves in the drawn pixels.

// textSpy, run in the page before its scripts, keeps the text drawn on
// #plot during the last animation frame that drew any as
// window.__drawnText: [{text, x, y, align, base, font}], in canvas pixels.
const textSpy = `(() => {
  const fill = CanvasRenderingContext2D.prototype.fillText;
  let frame = [];
  window.__drawnText = [];
  CanvasRenderingContext2D.prototype.fillText = function (text, x, y, ...rest) {
    if (this.canvas.id === "plot") frame.push({ text: String(text), x, y, align: this.textAlign, base: this.textBaseline, font: this.font });
    return fill.call(this, text, x, y, ...rest);
  };
  const raf = window.requestAnimationFrame.bind(window);
  window.requestAnimationFrame = (cb) => raf((t) => {
    frame = [];
    cb(t);
    if (frame.length) window.__drawnText = frame;
  });
})()`

// spyOnText installs textSpy for the pages the tab loads next.
func (tb *tab) spyOnText() {
	tb.t.Helper()
	if _, err := chromedp.Call(tb.ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: textSpy}); err != nil {
		tb.t.Fatalf("install the text spy: %v", err)
	}
}

// lanesShown is, per channel, what the page shows of its range: the
// labels drawn at the lane's right edge (top = max, bottom = min), the
// Min/Max boxes, the range it used, and the extremes of the samples in
// the window.
type lanesShown struct {
	Drawn   [][2]string
	Boxes   [][2]string
	Invalid []bool
	Range   [][2]float64
	Data    [][2]float64
}

// shown reads lanesShown in one task of the page, so the boxes and the
// labels are those of the same redraw.
func (tb *tab) shown() lanesShown {
	tb.t.Helper()
	var s lanesShown
	tb.eval(`(() => {
	  const c = document.getElementById("plot"), dpr = window.devicePixelRatio || 1;
	  const lanes = c.height - Math.round(18 * dpr); // the time axis's labels are below
	  const right = window.__drawnText.filter((t) => t.align === "right" && t.x > c.width - 10 * dpr && t.y < lanes);
	  const col = (base) => right.filter((t) => t.base === base).sort((a, b) => a.y - b.y).map((t) => t.text);
	  const tops = col("top"), bottoms = col("bottom");
	  const rows = [...document.querySelectorAll("#channels .chan")];
	  const box = (row, k) => row.querySelector('[data-k="' + k + '"]');
	  return {
	    Drawn: tops.map((t, i) => [bottoms[i], t]),
	    Boxes: rows.map((r) => [box(r, "min").value, box(r, "max").value]),
	    Invalid: rows.map((r) => box(r, "min").getAttribute("aria-invalid") === "true"),
	    Range: wsbridge.ranges,
	    Data: rows.map((_, i) => {
	      const v = wsbridge.tail(i, Math.round(wsbridge.windowS * wsbridge.rate)).filter((x) => x !== null);
	      return [Math.min(...v), Math.max(...v)];
	    }),
	  };
	})()`, &s)
	return s
}

// redraw waits for n more redraws.
func (tb *tab) redraw(n int) {
	tb.t.Helper()
	var drawn int
	tb.eval(`wsbridge.drawn`, &drawn)
	tb.waitFor("a redraw", fmt.Sprintf(`wsbridge.drawn >= %d`, drawn+n), 5*time.Second)
}

// assertBoxesMatchAxis checks that each channel's Min and Max boxes hold
// exactly the labels drawn at its lane's bottom and top, and that those
// are the range the lane was drawn with (and, autoscaled, hold the data).
func assertBoxesMatchAxis(t *testing.T, tb *tab, channels int, autoscaled bool) lanesShown {
	t.Helper()
	s := tb.shown()
	if len(s.Boxes) != channels || len(s.Drawn) != channels || len(s.Range) != channels {
		t.Fatalf("%d channel rows, %d lanes with range labels drawn, %d ranges: want %d of each (%+v)", len(s.Boxes), len(s.Drawn), len(s.Range), channels, s)
	}
	for c := range channels {
		lo, err1 := strconv.ParseFloat(s.Boxes[c][0], 64)
		hi, err2 := strconv.ParseFloat(s.Boxes[c][1], 64)
		if s.Boxes[c] != s.Drawn[c] || err1 != nil || err2 != nil || lo != s.Range[c][0] || hi != s.Range[c][1] {
			t.Errorf("channel %d: Min/Max boxes %q, labels drawn on the lane %q, range drawn %v: want all the same", c, s.Boxes[c], s.Drawn[c], s.Range[c])
		}
		if d := s.Data[c]; autoscaled && (d[0] < lo || d[1] > hi || d[1]-d[0] < 0.5*(hi-lo)) {
			t.Errorf("channel %d: autoscaled to %v, the window's samples span %v: want them inside and filling more than half", c, s.Range[c], d)
		}
	}
	return s
}

// setBox types v into channel c's Min or Max box (k "min" or "max") and
// commits it, as Enter or leaving the box does.
func setBox(c int, k, v string) chromedp.Action[chromedp.Void] {
	return chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`(() => {
	  const e = document.querySelectorAll("#channels .chan")[%d].querySelector('[data-k="%s"]');
	  e.value = %q;
	  e.dispatchEvent(new Event("change"));
	})()`, c, k, v))
}

// TestPageRangeBoxesMatchTheAxis: the Min/Max boxes of a channel are its
// lane's range, exactly as the labels drawn beside the lane print it:
// while autoscale moves the range at almost every redraw (the simulator's
// counter climbs through the window), when the range is fixed from the
// boxes (typed in any notation), and a range that is no range is marked,
// not drawn. In the spectrum (dB) the boxes, which set the time view's
// range, are disabled.
func TestPageRangeBoxesMatchTheAxis(t *testing.T) {
	parallelPage(t, light)
	tb := newTab(t)
	tb.spyOnText()
	srv := startServe(t, simOpts{Signal: "counter", Rate: 8000, Channels: 2})
	tb.open(srv.URL)
	tb.waitFor("a full window drawn", `wsbridge.samples > 8000 * 0.2 && wsbridge.axisLabels.length === 2`, 5*time.Second)

	// Autoscaled: the boxes follow each redraw.
	ranges := map[[2]float64]bool{}
	for range 5 {
		tb.redraw(2)
		s := assertBoxesMatchAxis(t, tb, 2, false)
		ranges[s.Range[0]] = true
	}
	t.Logf("channel 1 was drawn with %d ranges in 5 reads", len(ranges))
	// Paused, the window's samples stay those drawn: autoscale holds them.
	// (A pointer moving over the left of the plot redraws it.)
	tb.run(chromedp.Click(chromedp.ID("pause")))
	tb.waitFor("paused", `wsbridge.paused`, 2*time.Second)
	tb.pointAt("mouse", 0.1, 0)
	before := assertBoxesMatchAxis(t, tb, 2, true)

	// Fixed: unticking Autoscale keeps the range in use; typed values are
	// drawn and shown as the axis prints them.
	tb.run(chromedp.Click(chromedp.CSS(`#channels .chan [data-k="auto"]`)))
	tb.waitFor("channel 1's boxes editable", `!document.querySelector('#channels .chan [data-k="min"]').disabled`, 2*time.Second)
	tb.pointAt("mouse", 0.2, 0)
	fixed := assertBoxesMatchAxis(t, tb, 2, false)
	if fixed.Range[0] != before.Range[0] {
		t.Errorf("unticking Autoscale changed channel 1's range from %v to %v: want the range in use kept", before.Range[0], fixed.Range[0])
	}
	tb.run(chromedp.MouseEvent(chromedp.MouseMoved, 5, 5))
	tb.run(chromedp.Click(chromedp.ID("pause")))
	tb.waitFor("resumed", `!wsbridge.paused`, 2*time.Second)
	tb.run(setBox(0, "min", "-2.5e4"), setBox(0, "max", "20000.0"))
	tb.waitFor("the range typed in use", `wsbridge.ranges[0][0] === -25000 && wsbridge.ranges[0][1] === 20000`, 3*time.Second)
	tb.redraw(2)
	s := assertBoxesMatchAxis(t, tb, 2, false)
	if s.Boxes[0] != [2]string{"-25000", "20000"} {
		t.Errorf("typed -2.5e4 and 20000.0: the boxes show %q, want them as the axis prints them", s.Boxes[0])
	}

	// Min above Max is marked and not drawn: the lane keeps the last range.
	tb.run(setBox(0, "min", "30000"))
	tb.waitFor("the box marked invalid", `document.querySelector('#channels .chan [data-k="min"]').getAttribute("aria-invalid") === "true"`, 2*time.Second)
	tb.redraw(2)
	s = tb.shown()
	if s.Range[0] != [2]float64{-25000, 20000} || s.Drawn[0] != [2]string{"-25000", "20000"} || !s.Invalid[0] {
		t.Errorf("after Min 30000 > Max: range %v drawn as %q, invalid %v: want the last range kept and the box marked", s.Range[0], s.Drawn[0], s.Invalid[0])
	}

	// The spectrum's lanes are in dB: the time view's boxes are disabled.
	tb.run(chromedp.Click(chromedp.ID("spectrum")))
	tb.waitFor("the boxes disabled in the spectrum", `wsbridge.view === "spectrum" && document.getElementById("channels").disabled &&
		[...document.querySelectorAll("#channels input")].every((e) => e.matches(":disabled"))`, 2*time.Second)
	tb.run(chromedp.Click(chromedp.ID("spectrum")))
	tb.waitFor("the boxes back in the time view", `wsbridge.view === "time" && !document.querySelector('#channels .chan [data-k="max"]').matches(":disabled")`, 2*time.Second)
	tb.noProblems()
}

// periods counts, per lane, the waves drawn on the canvas: each pixel
// column's trace (pixels in the lane's color, outside the labels) has a
// mean height, and a period is a rise from the lowest 30% of those heights
// to the highest 30%. Fill is the fraction of the lane's area the trace
// covers. It needs the text spy (spyOnText).
type lanePeriods struct {
	Periods int
	Columns float64 // fraction of columns with a trace pixel
	Fill    float64
	Width   int // the canvas's width in CSS pixels
}

func (tb *tab) periods() []lanePeriods {
	tb.t.Helper()
	var r []lanePeriods
	tb.eval(`(() => {
	  const c = document.getElementById("plot"), W = c.width, H = c.height, dpr = window.devicePixelRatio || 1;
	  const px = c.getContext("2d").getImageData(0, 0, W, H).data;
	  const n = Math.max(1, wsbridge.channels), laneH = (H - Math.round(18 * dpr)) / n;
	  const probe = document.createElement("canvas").getContext("2d");
	  // The labels' plates hide the trace, and the lane titles are drawn in
	  // the trace's color: pixels under any text drawn are left out.
	  const hidden = window.__drawnText.map((t) => {
	    probe.font = t.font;
	    const w = probe.measureText(t.text).width, h = 14 * dpr, pad = 3 * dpr;
	    const x0 = t.align === "right" ? t.x - w : t.align === "center" ? t.x - w / 2 : t.x, y0 = t.base === "bottom" ? t.y - h : t.y;
	    return [x0 - pad, y0 - pad, x0 + w + pad, y0 + h + pad];
	  });
	  const under = (x, y) => hidden.some(([a, b, c, d]) => x >= a && x <= c && y >= b && y <= d);
	  return Array.from({ length: n }, (_, lane) => {
	    probe.fillStyle = wsbridge.traceColors[lane % wsbridge.traceColors.length];
	    probe.fillRect(0, 0, 1, 1);
	    const [r, g, b] = probe.getImageData(0, 0, 1, 1).data;
	    const y0 = Math.ceil(lane * laneH), y1 = Math.floor((lane + 1) * laneH);
	    const mean = [];
	    let pixels = 0;
	    for (let x = 0; x < W; x++) {
	      let sum = 0, k = 0;
	      for (let y = y0; y < y1; y++) {
	        const i = (y * W + x) * 4;
	        if (Math.abs(px[i] - r) + Math.abs(px[i + 1] - g) + Math.abs(px[i + 2] - b) < 40 && !under(x, y)) { sum += y; k++; }
	      }
	      pixels += k;
	      if (k) mean.push(sum / k);
	    }
	    const lo = Math.min(...mean), hi = Math.max(...mean);
	    let periods = 0, state = 0;
	    for (const m of mean) { // y grows downwards: high values are low on screen
	      if (m > hi - 0.3 * (hi - lo)) state = -1;
	      else if (m < lo + 0.3 * (hi - lo) && state === -1) { state = 1; periods++; }
	    }
	    return { Periods: periods, Columns: mean.length / W, Fill: pixels / (W * (y1 - y0)), Width: Math.round(W / dpr) };
	  });
	})()`, &r)
	return r
}

// assertWaves checks that the automatic window shows a tone of hz as
// waves: as many periods as the window holds (give or take one, where
// the window cuts one), each wide enough to see, not a solid band.
func assertWaves(t *testing.T, tb *tab, hz float64) {
	t.Helper()
	var windowS float64
	tb.eval(`wsbridge.windowS`, &windowS)
	want := hz * windowS
	for i, l := range tb.periods() {
		t.Logf("lane %d: %d periods drawn in the %g s window (want %.1f), %.0f CSS px each; trace in %.2f of the columns, fills %.3f of the lane",
			i, l.Periods, windowS, want, float64(l.Width)/want, l.Columns, l.Fill)
		if math.Abs(float64(l.Periods)-want) > 1 || l.Fill > 0.3 {
			t.Errorf("lane %d: %d periods drawn, filling %.0f%% of the lane: want %.1f periods of %g Hz as a line, not a band",
				i, l.Periods, 100*l.Fill, want, hz)
		}
		if px := float64(l.Width) / want; px < 12 {
			t.Errorf("lane %d: a period is %.0f CSS px wide: too narrow to see its shape", i, px)
		}
	}
}

// autoWindowS is the window the page picks for a rate (stream.js
// autoWindow): the shortest of its windows that holds 700 sample instants,
// at most 10 s.
func autoWindowS(rate float64) float64 {
	for _, w := range []float64{0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5} {
		if w*rate >= 700 {
			return w
		}
	}
	return 10
}

// TestPageSpectrumReadsHarmonics runs the simulator's 440 Hz square wave
// at 16 kHz (the README's rate): the automatic window (50 ms) shows its
// 22 periods; the spectrum reads its fundamental as the peak and, under
// the mouse, a finger and the keyboard's cursor, its odd harmonics at
// their frequencies and levels (4/(pi h) of the amplitude), refined
// between bins, and other bins at their own frequency.
func TestPageSpectrumReadsHarmonics(t *testing.T) {
	parallelPage(t, light)
	tb := newTab(t)
	tb.spyOnText()
	srv := startServe(t, simOpts{Signal: "square", Rate: 16000, Channels: 1})
	tb.open(srv.URL)
	tb.waitFor("the automatic 50 ms window", `wsbridge.windowAuto && wsbridge.windowS === 0.05 &&
		document.getElementById("window").selectedOptions[0].textContent === "Auto (50 ms)"`, 3*time.Second)
	tb.waitFor("a full window", `wsbridge.samples > 16000 * 0.1`, 5*time.Second)
	tb.redraw(2)
	assertWaves(t, tb, 440)

	tb.waitFor("a 16384-point FFT's samples", `wsbridge.samples > 17000`, 10*time.Second)
	tb.run(chromedp.KeyEvent("f"))
	tb.waitFor("the spectrum's peak", `wsbridge.view === "spectrum" && wsbridge.peaks[0]`, 3*time.Second)
	tb.redraw(2)
	h := tb.hook()
	tolHz, tolDB := 0.1, 0.2
	if h.LostFrames > 0 { // holes in the transform's samples (a starved simulator) smear the spectrum
		t.Logf("%d frames lost (%v): tolerances widened", h.LostFrames, h.GapsByReason)
		tolHz, tolDB = 1, 1.5
	}
	amp := 0.5 * 32767 // --sim-amplitude 0.5 of i16 full scale
	level := func(harmonic float64) float64 { return 20 * math.Log10(4/math.Pi*amp/harmonic) }
	var pk struct{ Hz, DB float64 }
	tb.eval(`({Hz: wsbridge.peaks[0].hz, DB: wsbridge.peaks[0].db})`, &pk)
	if math.Abs(pk.Hz-440) > tolHz || math.Abs(pk.DB-level(1)) > tolDB {
		t.Errorf("peak %.3f Hz at %.2f dB, want 440 Hz at %.2f dB", pk.Hz, pk.DB, level(1))
	}
	// Without a cursor (a keyboard user's case) the readout names the peak.
	if r := tb.text("readout"); !strings.Contains(r, "peak 440.0 Hz at 86.") || strings.Contains(r, "cursor") {
		t.Errorf("readout without a cursor %q: want the peak, 440.0 Hz at 86.x dB", r)
	}
	if got := drawnTitle(tb); !strings.Contains(got, "16384-point FFT (1.0 Hz bins) · peak 440.0 Hz at 86.") {
		t.Errorf("the lane's title drawn %q: want the FFT's size, its bins and the peak", got)
	}

	nyq := 8000.0
	column := func(hz float64) float64 { // the middle of the pixel column hz is drawn in, as a fraction of the width
		var f float64
		tb.eval(fmt.Sprintf(`(() => { const w = document.getElementById("plot").width; return (Math.floor(%g / %g * w) + 0.5) / w; })()`, hz, nyq), &f)
		return f
	}
	check := func(what string, r reading, hz, db float64, peak bool) {
		t.Helper()
		if math.Abs(r.Hz-hz) > tolHz || math.Abs(r.DB-db) > tolDB || r.Peak != peak {
			t.Errorf("%s reads %.2f Hz at %.2f dB (peak %v): want %.2f Hz at %.2f dB (peak %v)", what, r.Hz, r.DB, r.Peak, hz, db, peak)
		}
	}
	// The mouse on the 3rd harmonic's column, then 2 CSS px beside it (the
	// reading snaps to a peak within 4 px).
	check("the mouse on 1320 Hz", pointerAt(t, tb, "mouse", column(1320), 0), 1320, level(3), true)
	check("the mouse 2 px beside 1320 Hz", pointerAt(t, tb, "mouse", column(1320), 2), 1320, level(3), true)
	// Between harmonics: far below the tone, a bin read at its own
	// frequency or a spur of the sampled square's edges within 4 px.
	bin := 16000.0 / 16384
	assertBin := func(what string, r reading) {
		t.Helper()
		if k := math.Round(r.Hz / bin); !r.Peak && math.Abs(r.Hz-k*bin) > 0.05 {
			t.Errorf("%s reads %.2f Hz (not a peak): want a bin's own frequency, a multiple of %.4f Hz", what, r.Hz, bin)
		}
	}
	r := pointerAt(t, tb, "mouse", column(880), 0)
	if assertBin("the mouse at 880 Hz", r); r.DB > level(1)-30 || math.Abs(r.Hz-880) > 40 {
		t.Errorf("the mouse at 880 Hz (no tone) reads %.2f Hz at %.2f dB (peak %v): want about 880 Hz far below the tone", r.Hz, r.DB, r.Peak)
	}

	// The keyboard: the plot takes focus, Right moves the cursor one pixel
	// (with no snapping) from the fundamental to its flank, read at a bin;
	// End goes to the last column (half the rate), Left moves one pixel
	// back, Escape clears.
	r0 := pointerAt(t, tb, "mouse", column(440), 0)
	check("the mouse on 440 Hz", r0, 440, level(1), true)
	tb.eval(`document.getElementById("plot").focus()`, nil)
	tb.run(chromedp.KeyEvent(kb.ArrowRight))
	tb.afterFrames()
	r = readCursor(t, tb)
	if assertBin("Right of the peak", r); r.Peak || r.Hz <= 440 || r.Hz > 440+2*nyq/1000 || r.DB > level(1)-6 {
		t.Errorf("Right of the peak reads %.2f Hz at %.2f dB (peak %v): want a bin on the peak's flank, one pixel up", r.Hz, r.DB, r.Peak)
	}
	tb.run(chromedp.KeyEvent(kb.End))
	tb.waitFor("the keyboard's cursor at the right end", `/cursor (7\.99\d\d|8\.0000) kHz/.test(wsbridge.cursor)`, 3*time.Second)
	r0 = readCursor(t, tb)
	tb.run(chromedp.KeyEvent(kb.ArrowLeft))
	tb.afterFrames()
	if r1 := readCursor(t, tb); !(r1.Hz < r0.Hz && r0.Hz-r1.Hz < 3*nyq/1000) {
		t.Errorf("Left moved the keyboard's cursor from %.2f Hz to %.2f Hz: want one pixel down", r0.Hz, r1.Hz)
	}
	tb.run(chromedp.KeyEvent(kb.Escape))
	tb.waitFor("the keyboard's cursor gone", `!wsbridge.cursor.includes("cursor") && wsbridge.cursor.includes("peak 440.0 Hz")`, 3*time.Second)
	tb.run(chromedp.MouseEvent(chromedp.MouseMoved, 5, 5)) // off the plot
	tb.eval(`document.getElementById("plot").blur()`, nil)

	// A finger: a tap 8 CSS px beside the 5th harmonic reads it (12 px
	// snap), and the reading stays after the finger lifts, until a tap
	// elsewhere.
	if _, err := chromedp.Call(tb.ctx, emulation.SetTouchEmulationEnabled, emulation.SetTouchEmulationEnabledParams{Enabled: true, MaxTouchPoints: 1}); err != nil {
		t.Fatalf("touch emulation: %v", err)
	}
	check("a finger 8 px beside 2200 Hz", pointerAt(t, tb, "touch", column(2200), 8), 2200, level(5), true)
	tb.redraw(3)
	tb.shot("spectrum-readout")
	if c := tb.text("readout"); !strings.Contains(c, "cursor 2.2000 kHz") {
		t.Errorf("after the finger lifted the readout is %q: want the reading kept", c)
	}
	tap(t, tb, 5, 5) // the page's header
	tb.waitFor("the finger's reading gone after a tap elsewhere", `!wsbridge.cursor.includes("cursor")`, 3*time.Second)

	tb.noProblems()
}

// drawnTitle is the first lane's title as drawn on the canvas (the
// highest text drawn left-aligned; the axis's labels are at the bottom).
func drawnTitle(tb *tab) string {
	tb.t.Helper()
	var s string
	tb.eval(`(window.__drawnText.filter((t) => t.align === "left" && t.base === "top").sort((a, b) => a.y - b.y)[0] || {text: ""}).text`, &s)
	return s
}

// reading is the first channel's cursor reading in the readout.
type reading struct {
	Hz, DB float64
	Peak   bool
}

// pointerAt puts a mouse (moved there) or a finger (a tap) at fraction f
// of the plot's width plus dx CSS pixels and returns the first channel's
// spectrum reading once the plot was redrawn with it.
func pointerAt(t *testing.T, tb *tab, by string, f, dx float64) reading {
	t.Helper()
	tb.pointAt(by, f, dx)
	return readCursor(t, tb)
}

// pointAt puts a mouse or a finger on the plot (see pointerAt) and waits
// until the plot was redrawn with the cursor there.
func (tb *tab) pointAt(by string, f, dx float64) {
	t := tb.t
	t.Helper()
	var p struct{ X, Y float64 }
	tb.eval(`(() => { const c = document.getElementById("plot"), b = c.getBoundingClientRect();
	  return {X: b.left + c.clientLeft + `+strconv.FormatFloat(f, 'f', -1, 64)+` * c.clientWidth, Y: b.top + b.height / 4}; })()`, &p)
	if by == "touch" {
		tap(t, tb, p.X+dx, p.Y)
	} else {
		tb.run(chromedp.MouseEvent(chromedp.MouseMoved, p.X+dx, p.Y))
	}
	tb.afterFrames()
	tb.waitFor("a cursor reading", `wsbridge.cursor.includes("cursor")`, 3*time.Second)
}

// afterFrames returns after two animation frames: the input dispatched
// before (the protocol waits for the page to handle it) has been drawn,
// paused or not.
func (tb *tab) afterFrames() {
	tb.t.Helper()
	tb.eval(`new Promise((ok) => requestAnimationFrame(() => requestAnimationFrame(() => ok(true))))`, nil)
}

// tap touches the page at (x, y) CSS pixels and lifts the finger.
func tap(t testing.TB, tb *tab, x, y float64) {
	t.Helper()
	for _, ev := range []input.DispatchTouchEventParams{
		{Type: input.DispatchTouchEventTypeTouchStart, TouchPoints: []*input.TouchPoint{{X: x, Y: y}}},
		{Type: input.DispatchTouchEventTypeTouchEnd, TouchPoints: []*input.TouchPoint{}},
	} {
		if _, err := chromedp.Call(tb.ctx, input.DispatchTouchEvent, ev); err != nil {
			t.Fatalf("touch: %v", err)
		}
	}
}

// readCursor parses the first channel's cursor reading from the readout.
func readCursor(t *testing.T, tb *tab) reading {
	t.Helper()
	text := tb.text("readout")
	m := cursorRe.FindStringSubmatch(text)
	if m == nil {
		t.Fatalf("readout %q has no cursor reading", text)
	}
	var r reading
	r.Hz, _ = strconv.ParseFloat(m[1], 64)
	if m[2] == "kHz" {
		r.Hz *= 1000
	}
	r.DB, _ = strconv.ParseFloat(strings.ReplaceAll(m[3], "\u2212", "-"), 64)
	r.Peak = m[4] != ""
	return r
}
