package web

import (
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestPageSendsCommandsAndFollowsRateChange: with --allow-commands the page
// offers the command box; "rate 8000" reaches the simulator, its reply is
// listed, and the page re-lays its plot for the new rate from the new info.
func TestPageSendsCommandsAndFollowsRateChange(t *testing.T) {
	parallelPage(t, light)
	tb := newTab(t)
	srv := startServe(t, simOpts{Signal: "sine", Rate: 16000, Channels: 1, Commands: true})
	tb.open(srv.URL)
	tb.waitFor("command box", `!document.getElementById("command-form").hidden`, 3*time.Second)
	tb.run(chromedp.SendKeys(chromedp.ID("command-input"), "rate 8000"), chromedp.Click(chromedp.CSS("#command-form button")))
	tb.waitFor("the reply", `[...document.querySelectorAll("#log li")].some((li) => li.textContent.includes("reply (ok)"))`, 5*time.Second)
	tb.waitFor("the new rate", `wsbridge.rate === 8000 && wsbridge.device && wsbridge.device.rate === 8000`, 5*time.Second)
	// The frames that follow carry 10 ms at 8 kHz: 80 instants each. How
	// many arrive per second is the loaded machine's figure, compared with
	// what serve received meanwhile.
	time.Sleep(300 * time.Millisecond)
	h0, s0 := tb.hook(), serveFrames(t, srv.URL)
	time.Sleep(1500 * time.Millisecond)
	h1, s1 := tb.hook(), serveFrames(t, srv.URL)
	frames, samples := h1.Frames-h0.Frames, h1.Samples-h0.Samples
	t.Logf("after rate 8000: the page got %d frames (%d instants), serve %d frames, in 1.5 s", frames, samples, s1-s0)
	if frames == 0 || samples != 80*frames {
		t.Errorf("after rate 8000 the page got %d instants in %d frames, want 80 per frame", samples, frames)
	}
	if float64(frames) < 0.5*float64(s1-s0) || float64(frames) > 1.5*float64(s1-s0)+5 {
		t.Errorf("the page got %d frames while serve received %d", frames, s1-s0)
	}
	tb.run(setWindow("0.5"))
	waitPlotted(t, tb, "after the rate change", 5*time.Second)
	tb.noProblems()
}

// serveFrames is serve's frames_received_total from /api/info.
func serveFrames(t *testing.T, url string) int64 {
	t.Helper()
	return int64(apiInfo(t, url+"/api/info").Counters["frames_received_total"])
}
