//go:build unix

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
	"github.com/creack/pty"
	"golang.org/x/sys/unix"

	"github.com/wsbridge/wsbridge/internal/serve"
	"github.com/wsbridge/wsbridge/internal/testsupport"
)

// textNames are the Serial Plotter labels the sketch prints, in order.
var textNames = []string{"count", "sine", "cosine", "saw", "square", "slow", "fast", "steps"}

// textSketch writes what a plain Serial.println sketch prints into a pty:
// "boot ok", then one line of labelled integers per sample instant at rate,
// paced by the wall clock (like a delay() loop), and "sensor warming up"
// every half second.
// Channel 0 counts from 0, so the page's samples can be checked exactly.
func textSketch(ctx context.Context, w io.Writer, rate float64, channels int) {
	if _, err := io.WriteString(w, "boot ok\r\n"); err != nil {
		return
	}
	start := time.Now()
	var line []byte
	written := 0
	tick := time.NewTicker(2 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		due := int(time.Since(start).Seconds() * rate)
		if behind := due - written; float64(behind) > rate+1 {
			// More than a second late (nothing read the port): Serial.print
			// blocks while the port is full, so the sketch runs late, it does
			// not skip. Shorter delays (a starved test process) are caught up.
			start = start.Add(time.Duration(float64(behind-int(rate)) / rate * float64(time.Second)))
			due = written + int(rate)
		}
		line = line[:0]
		for ; written < due; written++ {
			if written%int(max(1, rate/2)) == 0 {
				line = append(line, "sensor warming up\r\n"...)
			}
			for c := 0; c < channels; c++ {
				if c > 0 {
					line = append(line, ',')
				}
				line = append(line, textNames[c]...)
				line = append(line, ':')
				line = strconv.AppendInt(line, textValue(c, written, rate), 10)
			}
			line = append(line, '\r', '\n')
		}
		if len(line) > 0 {
			if _, err := w.Write(line); err != nil {
				return
			}
		}
	}
}

// textValue is channel c at sample instant i: a counter, then shapes of
// about 2 Hz whatever the rate, so every lane shows a trace.
func textValue(c, i int, rate float64) int64 {
	ph := 2 * math.Pi * 2 * float64(i) / rate
	switch c {
	case 0:
		return int64(i)
	case 1, 5, 6:
		return int64(1000 * math.Sin(ph*float64(c)))
	case 2:
		return int64(1000 * math.Cos(ph))
	case 3:
		return int64(i*40) % 2000
	case 4:
		return int64(1000 * math.Copysign(1, math.Sin(ph)))
	}
	return int64(i/50) % 10 * 100
}

// startTextServe runs serve --port on a pty that textSketch writes into,
// with no other flag: text input, its rate and its names are found.
func startTextServe(t *testing.T, rate float64, channels int) *testsupport.Served {
	t.Helper()
	ptm, slave, err := pty.Open()
	if err != nil {
		t.Fatalf("open a pty: %v", err)
	}
	// A non-blocking copy of the master, so that Close wakes a write that
	// waits while nothing reads the port.
	fd, err := unix.Dup(int(ptm.Fd()))
	if err == nil {
		err = unix.SetNonblock(fd, true)
	}
	ptm.Close()
	if err != nil {
		t.Fatalf("pty master: %v", err)
	}
	master := os.NewFile(uintptr(fd), "ptmx")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	t.Cleanup(func() {
		cancel()
		master.Close() // wakes a write blocked while nothing reads the port
		<-done
		slave.Close()
	})
	go func() {
		defer close(done)
		textSketch(ctx, master, rate, channels)
	}()
	so := serve.DefaultOptions()
	so.Capture.Port = slave.Name()
	so.Relay.Listen = "127.0.0.1:0"
	so.Relay.Page = Handler()
	return testsupport.StartServe(t, func(ctx context.Context, out io.Writer) error {
		so.Out = out
		return serve.Run(ctx, so)
	})
}

// TestPageShowsTextSketches opens the page on plain text sketches (labelled
// Serial.println lines, as serve --port reads them from a pty) at 10 Hz to
// 10 kHz with 1 to 8 channels (10 Hz x 1, 100 Hz x 8, 1 kHz x 3, 10 kHz x 8), from serve's first line on: serve measures
// the rate for its first seconds, the page plots meanwhile at its own
// estimate, and the plot must never start over (one layout), fill the whole
// window (a trace in at least 90% of every lane's pixel columns, counted
// on the canvas), name each lane after its label, hold every value, and
// show the sketch's log lines.
func TestPageShowsTextSketches(t *testing.T) {
	cases := []struct {
		rate     float64
		channels int
	}{{10, 1}, {100, 8}, {1000, 3}, {10000, 8}}
	if testing.Short() {
		cases = cases[2:3]
	}
	t.Parallel()
	for _, c := range cases {
		t.Run(fmt.Sprintf("%gHz_%dch", c.rate, c.channels), func(t *testing.T) {
			kind := light
			switch {
			case c.rate*float64(c.channels) > 10000: // 80,000 values a second parsed from text
				kind = heavy
			case c.rate <= 100: // a 10 s window to fill
				kind = slow
			}
			parallelPage(t, kind)
			checkTextSketch(t, c.rate, c.channels)
		})
	}
}

func checkTextSketch(t *testing.T, rate float64, channels int) {
	srv := startTextServe(t, rate, channels)
	tb := newTab(t)
	tb.run(chromedp.Navigate(srv.URL + "/"))
	tb.waitFor("connected", `window.wsbridge && wsbridge.state === "connected"`, 15*time.Second)
	tb.waitFor("the announced rate", fmt.Sprintf(`wsbridge.rate > 0 && !wsbridge.rateMeasured && wsbridge.channels === %d`, channels), 20*time.Second)
	// A full window after the first sample (the page was there from the start).
	tb.waitFor("a full window", `wsbridge.samples >= wsbridge.windowS * wsbridge.rate * 1.05 + 2`, 30*time.Second)
	tb.waitFor("a device line", `document.querySelector("#log li.device")`, 5*time.Second)
	var drawn int
	tb.eval(`wsbridge.drawn`, &drawn)
	tb.waitFor("a redraw", fmt.Sprintf(`wsbridge.drawn > %d`, drawn+1), 5*time.Second)

	var st struct {
		Rate, WindowS        float64
		Layouts, RateChanges int
		Names, Titles        []string
		Device               []string
		Lost, Restarts       int
	}
	tb.eval(`({Rate: wsbridge.rate, WindowS: wsbridge.windowS, Layouts: wsbridge.layouts, RateChanges: wsbridge.rateChanges, Lost: wsbridge.lostFrames, Restarts: wsbridge.restarts,
	  Names: wsbridge.device.channel_info.map((c) => c.name),
	  Titles: [...document.querySelectorAll("#channels .chan .name")].map((e) => e.textContent.trim()),
	  Device: [...document.querySelectorAll("#log li.device")].map((li) => li.textContent)})`, &st)
	// The sketch's pace is the wall clock's; on a loaded machine the pty
	// and serve may carry fewer lines. The page must plot at the rate serve
	// measured and announced.
	// Serve may announce a new rate meanwhile (a loaded machine): the page
	// must come to plot at the rate serve announces.
	var served, plotted float64
	testsupport.Within(15*time.Second, 50*time.Millisecond, func() bool {
		served = apiRate(t, srv.URL)
		tb.eval(`wsbridge.rate`, &plotted)
		return plotted == served
	})
	st.Rate = plotted
	tb.eval(`wsbridge.windowS`, &st.WindowS) // the automatic window follows a rate announced meanwhile
	var lag struct{ Page, Serve int64 }
	tb.eval(`wsbridge.lastSeq`, &lag.Page)
	lag.Serve = int64(apiInfo(t, srv.URL+"/api/info").Seq) - 1
	t.Logf("rate %.1f (serve %.1f, sketch paced at %g), window %g s, layouts %d, rate changes %d, device lines %d", st.Rate, served, rate, st.WindowS, st.Layouts, st.RateChanges, len(st.Device))
	if st.RateChanges > 0 {
		var changes []string
		tb.eval(`[...document.querySelectorAll("#log li")].map((li) => li.textContent).filter((t) => t.includes("rate changed"))`, &changes)
		t.Logf("serve changed the rate: %q", changes)
	}
	if st.Rate != served {
		t.Errorf("page plots at %.1f S/s, serve announces %.1f (page at seq %d, serve at %d)", st.Rate, served, lag.Page, lag.Serve)
	}
	if want := autoWindowS(st.Rate); st.WindowS != want {
		t.Errorf("the automatic window is %g s at %g Hz, want %g s (the shortest holding 700 samples, at most 10 s)", st.WindowS, st.Rate, want)
	}
	if st.Layouts != 1 {
		var all []string
		tb.eval(`[...document.querySelectorAll("#log li:not(.device)")].map((li) => li.textContent)`, &all)
		t.Errorf("the plot started over %d times: want one layout, however the rate estimate moved; messages %q", st.Layouts-1, all)
	}
	want := textNames[:channels]
	if strings.Join(st.Names, ",") != strings.Join(want, ",") || strings.Join(st.Titles, ",") != strings.Join(want, ",") {
		t.Errorf("channel names %q, shown as %q: want the sketch's labels %q", st.Names, st.Titles, want)
	}
	if len(st.Device) == 0 || !strings.HasSuffix(st.Device[0], "device: sensor warming up") {
		var all []string
		tb.eval(`[...document.querySelectorAll("#log li")].map((li) => li.className + ": " + li.textContent)`, &all)
		t.Errorf("device lines on the page %q: want the sketch's \"sensor warming up\"; all messages %q", st.Device, all)
	}
	if st.Lost != 0 || st.Restarts != 0 {
		t.Errorf("lost frames %d, restarts %d on a clean pty", st.Lost, st.Restarts)
	}
	// Every value in the window arrived, in order: the counter channel is
	// consecutive, broken only where serve announced a new rate.
	var tail []*float64
	tb.eval(`wsbridge.tail(0, Math.min(wsbridge.samples, Math.round(wsbridge.windowS * wsbridge.rate)))`, &tail)
	breaks, prev := 0, -1.0
	for i, v := range tail {
		switch {
		case v == nil:
			breaks++
		case prev >= 0 && *v != prev+1:
			t.Fatalf("counter channel: sample %d of the newest %d is %v after %v, want consecutive values", i, len(tail), *v, prev)
		default:
			prev = *v
		}
	}
	if breaks > st.RateChanges || prev < 0 {
		t.Errorf("counter channel: %d holes in the newest %d samples with %d rate changes", breaks, len(tail), st.RateChanges)
	}
	c := tb.coverage()
	t.Logf("trace in %.3v of each lane's pixel columns", c.Lanes)
	if len(c.Lanes) != channels {
		t.Errorf("%d lanes on the canvas, want %d", len(c.Lanes), channels)
	}
	for i, f := range c.Lanes {
		if f < 0.9 {
			t.Errorf("lane %d (%s) has a trace in %.0f%% of its pixel columns: the window is not drawn across", i, textNames[i], 100*f)
		}
	}
	if buf, err := chromedp.Run(tb.ctx, chromedp.CaptureScreenshot()); err == nil && *shotDir != "" {
		p := filepath.Join(*shotDir, strings.ReplaceAll(t.Name(), "/", "-")+".png")
		if os.WriteFile(p, buf, 0o644) == nil {
			t.Logf("screenshot: %s", p)
		}
	}
	tb.noProblems()
}

// apiRate is the rate serve announces in /api/info.
func apiRate(t *testing.T, url string) float64 {
	t.Helper()
	return apiInfo(t, url+"/api/info").Rate
}
