package web

import (
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// TestPageKeyboard drives the page by keyboard only: Tab reaches the Pause
// button with a visible focus ring, Enter presses it, ] and [ change the
// window, and every control has an accessible name.
func TestPageKeyboard(t *testing.T) {
	parallelPage(t, light)
	tb := newTab(t)
	srv := startServe(t, simOpts{Signal: "sine", Rate: 8000, Channels: 2})
	tb.open(srv.URL)

	tb.run(chromedp.KeyEvent(kb.Tab))
	var focus struct {
		ID      string `json:"id"`
		Outline string `json:"outline"`
	}
	tb.eval(`({id: document.activeElement.id, outline: getComputedStyle(document.activeElement).outlineStyle})`, &focus)
	if focus.ID != "pause" || focus.Outline == "none" {
		t.Fatalf("first Tab focuses %q with outline %q, want the Pause button with a visible outline", focus.ID, focus.Outline)
	}
	tb.run(chromedp.KeyEvent(kb.Enter))
	tb.waitFor("paused by Enter", `wsbridge.paused`, 2*time.Second)
	tb.run(chromedp.KeyEvent(" ")) // on the focused button, Space presses it (once)
	tb.waitFor("resumed by Space", `!wsbridge.paused`, 2*time.Second)
	time.Sleep(300 * time.Millisecond)
	var paused bool
	tb.eval(`wsbridge.paused`, &paused)
	if paused {
		t.Fatal("Space on the focused Pause button toggled twice")
	}

	// At 8 kHz the automatic window is 100 ms; ] and [ step from there.
	tb.waitFor("the automatic window", `wsbridge.windowAuto && wsbridge.windowS === 0.1 && document.getElementById("window").value === "auto"`, 2*time.Second)
	tb.run(chromedp.KeyEvent("]"))
	tb.waitFor("window 200 ms", `wsbridge.windowS === 0.2 && !wsbridge.windowAuto && document.getElementById("window").value === "0.2"`, 2*time.Second)
	tb.run(chromedp.KeyEvent("["), chromedp.KeyEvent("["))
	tb.waitFor("window 50 ms", `wsbridge.windowS === 0.05`, 2*time.Second)

	var unnamed []string
	tb.eval(`[...document.querySelectorAll("button, input, select")].filter((el) => {
	  const name = el.getAttribute("aria-label") || (el.labels && [...el.labels].map((l) => l.textContent).join("").trim()) || el.textContent.trim();
	  return !name;
	}).map((el) => el.outerHTML)`, &unnamed)
	for _, u := range unnamed {
		t.Errorf("control without an accessible name: %s", u)
	}
	tb.noProblems()
}
