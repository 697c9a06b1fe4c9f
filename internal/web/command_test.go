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
	tb := newTab(t)
	srv := startServe(t, simOpts{Signal: "sine", Rate: 16000, Channels: 1, Commands: true})
	tb.open(srv.URL)
	tb.waitFor("command box", `!document.getElementById("command-form").hidden`, 3*time.Second)
	tb.run(chromedp.SendKeys(chromedp.ID("command-input"), "rate 8000"), chromedp.Click(chromedp.CSS("#command-form button")))
	tb.waitFor("the reply", `[...document.querySelectorAll("#log li")].some((li) => li.textContent.includes("reply (ok)"))`, 5*time.Second)
	tb.waitFor("the new rate", `wsbridge.rate === 8000 && wsbridge.device && wsbridge.device.rate === 8000`, 5*time.Second)
	t0 := time.Now()
	got := tb.rateOver(1500 * time.Millisecond)
	if got < 4000 || got > 12000 {
		t.Errorf("after rate 8000 the page receives %.0f samples/s, want about 8000", got)
	}
	t.Logf("rate measured in %v", time.Since(t0))
	tb.run(setWindow("0.5"))
	time.Sleep(200 * time.Millisecond) // a redraw of the new window
	assertPlotted(t, tb, "after the rate change")
	tb.noProblems()
}
