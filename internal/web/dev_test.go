package web

import (
	"os"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

func TestDevShots(t *testing.T) {
	if os.Getenv("DEVSHOTS") == "" {
		t.Skip()
	}
	tb := newTab(t)
	srv := startServe(t, simOpts{Signal: "sine", Rate: 48000, Channels: 2})
	tb.open(srv.URL)
	tb.run(chromedp.KeyEvent("f"))
	time.Sleep(time.Second)
	buf, _ := chromedp.Run(tb.ctx, chromedp.CaptureScreenshot())
	writeFile(t, "/tmp/spec.png", buf)
	tb.run(chromedp.KeyEvent("f"), chromedp.KeyEvent("["), chromedp.KeyEvent("["), chromedp.KeyEvent("["), chromedp.KeyEvent("["), chromedp.KeyEvent("["))
	time.Sleep(time.Second)
	buf, _ = chromedp.Run(tb.ctx, chromedp.CaptureScreenshot())
	writeFile(t, "/tmp/time20.png", buf)
}
