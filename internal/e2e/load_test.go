//go:build linux

package e2e

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// The load stream: counter, 1 channel of i32 at 16 kHz, 160 samples per
// frame: 100 frames/s of 670 bytes (binary), ~1.5 kB (json), ~1.3 kB (csv).
const (
	loadRate = 16000
	loadFS   = 160
)

// loadRSSBoundKiB is the stated memory bound: serve's RSS with 200 reading
// and 20 stalled clients stays under 128 MiB.
const loadRSSBoundKiB = 128 << 10

// TestLoadManyClients: the wsbridge binary serves WebSocket clients
// (binary, json and csv in turn) and some that never read. Every reader
// must get every frame in order (none falls behind the history), the
// stalled ones must not disturb them, and serve's RSS must stay under
// loadRSSBoundKiB. Lateness, CPU and whether the stalled clients were
// dropped yet (keepalive: --ping-interval 10s) are reported, not asserted
// (internal/relay tests the drop policies).
//
// 30 readers and 3 stalled for 3 s by default (10 + 2 for 2 s with
// -short); the figures in docs/reliability.md are from the full size, 200
// readers and 20 stalled for 10 s, a load benchmark that needs about 90 s of
// CPU for its 200 readers alone:
//
//	go test -tags load -run TestLoadManyClients -v ./internal/e2e
func TestLoadManyClients(t *testing.T) {
	readers := size(10, 30, 200)
	stalled := size(2, 3, 20)
	dur := size(2*time.Second, 3*time.Second, 10*time.Second)
	p := startServeBinary(t, "--sim", "--sim-signal", "counter", "--sim-rate", fmt.Sprint(loadRate), "--sim-sample-type", "i32",
		"--sim-frame-samples", fmt.Sprint(loadFS), "--max-clients", "400")
	srv := &serveRig{base: p.base, ws: p.ws}
	srv.waitFrames(t, 1, 5*time.Second)
	rss0 := p.rssKiB(t)
	formats := []string{"binary", "json", "csv"}
	recs := make([]*wsRec, readers)
	for i := range recs {
		f := formats[i%3]
		recs[i] = dialRecMode(t, p.ws+"?format="+f, f, loadFS, 1, nil, true)
	}
	for i := 0; i < stalled; i++ {
		stallClient(t, p.ws)
	}
	maxRSS := sampleRSS(t, p, dur)
	last := srv.nextSeq(t) - 1
	for _, r := range recs {
		r.waitSeq(t, last, 15*time.Second)
	}
	checkLoadReaders(t, recs)
	m := srv.metrics(t)
	cpu := p.cpuTime(t)
	if maxRSS > loadRSSBoundKiB {
		t.Errorf("serve RSS reached %d KiB with %d clients, over the stated bound of %d KiB", maxRSS, readers+stalled, loadRSSBoundKiB)
	}
	l := lateness(recs)
	t.Logf("%d readers (binary/json/csv) + %d stalled for %v: serve RSS %d KiB idle, %d KiB max, CPU %v; stalled dropped so far: ping %v, write %v; "+
		"messages sent %v (%.1f MB); lateness over %d frames: p50 %v, p99 %v, max %v",
		readers, stalled, dur, rss0, maxRSS, cpu, m["client_ping_timeouts_total"], m["client_write_timeouts_total"],
		m["messages_sent_total"], m["bytes_sent_total"]/1e6, len(l), pct(l, 50), pct(l, 99), pct(l, 100))
}

// stallClient opens a WebSocket with a 4 KiB receive buffer and never
// reads from it.
func stallClient(t *testing.T, url string) {
	t.Helper()
	d := &net.Dialer{Control: func(_, _ string, c syscall.RawConn) error {
		return c.Control(func(fd uintptr) { _ = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096) })
	}}
	hc := &http.Client{Transport: &http.Transport{DialContext: d.DialContext}}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, url, &websocket.DialOptions{HTTPClient: hc})
	if err != nil {
		t.Fatalf("stalled client: %v", err)
	}
	t.Cleanup(func() { c.CloseNow() })
}

// sampleRSS samples serve's RSS every 250 ms for d and returns the maximum.
func sampleRSS(t *testing.T, p *proc, d time.Duration) int64 {
	t.Helper()
	var peak int64
	for end := time.Now().Add(d); time.Now().Before(end); time.Sleep(250 * time.Millisecond) {
		peak = max(peak, p.rssKiB(t))
	}
	return peak
}

// checkLoadReaders fails unless every reader got one contiguous run of
// frames, without any gap, error or unexpected message.
func checkLoadReaders(t *testing.T, recs []*wsRec) {
	t.Helper()
	bad := 0
	for i, r := range recs {
		st := r.state()
		if len(st.Hellos) == 1 && len(st.Seqs) == 1 && len(st.Gaps) == 0 && len(st.Errs) == 0 && len(st.Other) == 0 && st.DupSeqs == 0 {
			continue
		}
		if bad++; bad <= 5 {
			t.Errorf("reader %d (%s): hellos %d, frames %v, gaps %+v, errors %+v, other %q, duplicates %d",
				i, r.format, len(st.Hellos), st.Seqs, st.Gaps, st.Errs, st.Other, st.DupSeqs)
		}
	}
	if bad > 0 {
		t.Errorf("%d of %d readers did not get a contiguous stream", bad, len(recs))
	}
}

// lateness returns, for every frame every reader received, how much later
// it arrived than the earliest any frame arrived relative to its nominal
// time (the sample time of its last sample on the device's clock).
func lateness(recs []*wsRec) []time.Duration {
	var offs []time.Duration
	base := time.Duration(1<<63 - 1)
	for _, r := range recs {
		r.mu.Lock()
		for _, a := range r.arrivals {
			off := time.Duration(a.at.UnixNano()) - time.Duration(a.end)*time.Second/loadRate
			offs = append(offs, off)
			base = min(base, off)
		}
		r.mu.Unlock()
	}
	for i := range offs {
		offs[i] -= base
	}
	slices.Sort(offs)
	return offs
}

// pct is the p-th percentile of sorted ds (p = 100: the maximum).
func pct(ds []time.Duration, p int) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	i := min(len(ds)*p/100, len(ds)-1)
	return ds[i].Round(10 * time.Microsecond)
}
