package web

import (
	"net/http/httptest"
	"strconv"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/heapprofiler"
	"github.com/chromedp/chromedp"
)

// The page's hot paths, timed in headless chromium. Run with
//
//	go test ./internal/web/ -run '^$' -bench Page -benchtime 20x
//
// ns/op is per operation named in each benchmark; js-B/op is what the
// page's JavaScript allocated per operation (the -benchmem of the page).

func benchTab(b *testing.B) *tab {
	tb := newTab(b)
	srv := httptest.NewServer(Handler()) // the page only; no stream needed
	b.Cleanup(srv.Close)
	tb.run(navigate(srv.URL + "/"))
	return tb
}

// BenchmarkPageIngest48kx2: one op = one second of a 48 kHz x 2 channel
// i16 stream (100 frames of 480 instants): CRC-32C check, parse, and
// storing into the rings. ns/op / 1e9 is the fraction of a core it costs.
func BenchmarkPageIngest48kx2(b *testing.B) {
	tb := benchTab(b)
	tb.eval(`(async () => {
	  const P = await import("/js/packet.js"), R = await import("/js/ring.js");
	  const frames = [];
	  for (let f = 0; f < 100; f++) {
	    const n = 480, ch = 2, buf = new ArrayBuffer(4 + 20 + n * ch * 2 + 4), dv = new DataView(buf);
	    dv.setUint8(0, 1); dv.setUint8(1, 1); dv.setUint16(2, 20 + n * ch * 2, true);
	    dv.setUint32(4, f, true); dv.setUint32(16, 48000, true); dv.setUint8(20, ch); dv.setUint8(21, 2); dv.setUint16(22, n, true);
	    for (let i = 0; i < n * ch; i++) dv.setInt16(24 + 2 * i, Math.round(10000 * Math.sin(i / 7)), true);
	    dv.setUint32(buf.byteLength - 4, P.crc32c(new Uint8Array(buf), 0, buf.byteLength - 4), true);
	    frames.push(buf);
	  }
	  const tracks = [new R.Track(48000, 2), new R.Track(48000, 2)];
	  window.benchIngest = (loops) => {
	    for (let l = 0; l < loops; l++) for (const buf of frames) {
	      P.checkPacket(buf);
	      const fr = P.parseData(buf);
	      for (let c = 0; c < fr.channels; c++) tracks[c].push(fr.samples, c, fr.channels, fr.count);
	    }
	  };
	  window.benchIngest(3); // warm up
	})()`, nil)
	b.ResetTimer()
	tb.eval(`benchIngest(`+strconv.Itoa(b.N)+`)`, nil)
	reportJSAllocs(b, tb, "benchIngest")
}

// benchDraw fills the tracks with seconds of a 440 Hz sine at rate, then
// times draw ("drawTime" or "drawSpectrum") of a window on a 1200x400
// canvas: one op = one redraw.
func benchDraw(b *testing.B, draw string, rate int, seconds, window float64, channels int) {
	tb := benchTab(b)
	tb.eval(`(async () => {
	  const R = await import("/js/ring.js"), Pl = await import("/js/plot.js"), Sc = await import("/js/scale.js");
	  const rate = `+strconv.Itoa(rate)+`, ch = `+strconv.Itoa(channels)+`, n = Math.round(rate * `+strconv.FormatFloat(seconds, 'f', -1, 64)+`);
	  const tracks = Array.from({ length: ch }, () => new R.Track(rate, ch));
	  const block = new Float32Array(65536);
	  for (let done = 0; done < n; done += block.length) {
	    for (let i = 0; i < block.length; i++) block[i] = 10000 * Math.sin((2 * Math.PI * 440 * (done + i)) / rate);
	    for (const t of tracks) t.push(block, 0, 1, Math.min(block.length, n - done));
	  }
	  const canvas = document.createElement("canvas");
	  canvas.width = 1200; canvas.height = 400;
	  const ctx = canvas.getContext("2d", { alpha: false });
	  const view = { tracks, rate, windowS: `+strconv.FormatFloat(window, 'f', -1, 64)+`, scales: tracks.map(() => new Sc.Scale()),
	    titles: tracks.map((_, c) => "ch" + c), colors: Pl.readColors(document.documentElement), dpr: 1,
	    cursor: null, ranges: [], labels: [], peaks: [], readout: [] };
	  window.benchDraw = (loops) => { for (let l = 0; l < loops; l++) Pl.`+draw+`(ctx, canvas, view); ctx.getImageData(0, 0, 1, 1); };
	  window.benchDraw(3);
	})()`, nil)
	b.ResetTimer()
	tb.eval(`benchDraw(`+strconv.Itoa(b.N)+`)`, nil)
	reportJSAllocs(b, tb, "benchDraw")
}

// reportJSAllocs runs fn(b.N) once more, untimed, under V8's sampling heap
// profiler (counting objects already collected too) and reports the bytes
// allocated per op as js-B/op.
func reportJSAllocs(b *testing.B, tb *tab, fn string) {
	b.StopTimer()
	all := true
	_, err := chromedp.Call(tb.ctx, heapprofiler.StartSampling, heapprofiler.StartSamplingParams{
		SamplingInterval: 1024, IncludeObjectsCollectedByMajorGC: &all, IncludeObjectsCollectedByMinorGC: &all})
	if err != nil {
		b.Fatalf("failed to start the heap sampler: %v", err)
	}
	tb.eval(fn+`(`+strconv.Itoa(b.N)+`)`, nil)
	res, err := chromedp.Call(tb.ctx, heapprofiler.StopSampling, cdp.Empty{})
	if err != nil || res.Profile == nil {
		b.Fatalf("failed to stop the heap sampler: %v", err)
	}
	b.ReportMetric(selfSizes(res.Profile.Head)/float64(b.N), "js-B/op")
}

// selfSizes sums the bytes allocated at n and below.
func selfSizes(n *heapprofiler.SamplingHeapProfileNode) float64 {
	if n == nil {
		return 0
	}
	s := n.SelfSize
	for _, c := range n.Children {
		s += selfSizes(c)
	}
	return s
}

// One redraw of a 1 s window of 48 kHz x 2 channels.
func BenchmarkPageDraw48kx2Window1s(b *testing.B) { benchDraw(b, "drawTime", 48000, 2, 1, 2) }

// One redraw of a 10 s window of 1 MS/s (the min/max buckets do the work).
func BenchmarkPageDraw1MSWindow10s(b *testing.B) { benchDraw(b, "drawTime", 1_000_000, 10, 10, 1) }

// One redraw of a 20 ms window of 48 kHz x 2 channels (a line through samples).
func BenchmarkPageDraw48kx2Window20ms(b *testing.B) { benchDraw(b, "drawTime", 48000, 1, 0.02, 2) }

// One redraw of the spectrum view of 48 kHz x 2 channels (16384-point FFTs).
func BenchmarkPageSpectrum48kx2(b *testing.B) { benchDraw(b, "drawSpectrum", 48000, 2, 1, 2) }
