package web

import (
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

func TestPageStreamsAndPlots(t *testing.T) {
	tb := newTab(t)
	srv := startFake(t, simOpts{Signal: "sine", Rate: 48000, Channels: 2})
	tb.run(chromedp.Navigate(srv.url + "/"))
	tb.waitFor("connected", `window.wsbridge && wsbridge.state === "connected" && wsbridge.frames > 20`, 15*time.Second)
	time.Sleep(2500 * time.Millisecond)
	h := tb.hook()
	t.Logf("hook: %+v", h)
	t.Logf("trace pixels: %d", tb.tracePixels())
	buf, err := chromedp.Run(tb.ctx, chromedp.CaptureScreenshot())
	if err == nil {
		writeFile(t, "/tmp/live-view-dev.png", buf)
	}
	tb.noProblems()
}
