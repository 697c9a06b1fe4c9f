//go:build soak

package e2e

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/wsbridge/wsbridge/internal/faultproxy"
)

var (
	soakDuration = flag.Duration("soak.duration", 10*time.Minute, "how long TestSoak runs")
	soakEvery    = flag.Duration("soak.every", 30*time.Second, "how often TestSoak prints a row of its table")
	soakProfile  = flag.String("soak.heapprofile", "", "write heap profiles DIR/early.pprof and DIR/end.pprof (compare with go tool pprof -base)")
)

// soakRow is one sample of the process's resources.
type soakRow struct {
	at         time.Duration
	rssKiB     int64
	heapKiB    uint64
	goroutines int
	samples    int64
	reconnects uint64
	clients    float64
}

// TestSoak runs the whole chain (simulator on a pty, unplugged every 10 s ->
// serve -> faultproxy cutting the link every 3 s -> sink -> pty reader,
// plus a WebSocket client connecting and leaving every second) for
// -soak.duration, prints RSS, heap and goroutines every -soak.every, and
// asserts they are flat: after a warm-up of a fifth of the run, the last
// quarter's medians may exceed the second fifth's by at most 25% + 8 MiB
// (RSS, heap) and 25 goroutines. Every sample must reach the reader
// exactly once except those the sink reported lost in device gaps.
//
//	go test -tags soak -run TestSoak -timeout 20m ./internal/e2e -soak.duration=10m
func TestSoak(t *testing.T) {
	logLimit = 64 << 10
	defer func() { logLimit = 0 }()
	c := startChain(t, chainOpts{servePing: 2 * time.Second, sinkPing: 500 * time.Millisecond,
		unplugEvery: 10 * time.Second, replugPause: 200 * time.Millisecond, garbage: 300})
	churn := dialChurn(t, c.serve)
	defer churn()
	var rows []soakRow
	start, next := time.Now(), time.Duration(0)
	tick := min(*soakEvery, *soakDuration/10)
	cuts := 0
	fmt.Printf("%8s %10s %10s %10s %12s %10s %8s\n", "elapsed", "rss_KiB", "heap_KiB", "goroutines", "samples", "reconnects", "clients")
	for el := time.Duration(0); el < *soakDuration; el = time.Since(start) {
		time.Sleep(time.Second)
		if int(el/(3*time.Second)) > cuts {
			cuts++
			c.proxy.Cut(faultproxy.CutMode(cuts % 2))
		}
		if el >= next {
			rows = append(rows, soakSample(t, c, el))
			printRow(rows[len(rows)-1])
			if len(rows) == 3 {
				heapProfile(t, "early.pprof")
			}
			next += tick
		}
		c.serve.running(t)
	}
	rows = append(rows, soakSample(t, c, time.Since(start)))
	printRow(rows[len(rows)-1])
	heapProfile(t, "end.pprof")
	checkFlat(t, rows)
	c.waitConnected(t)
	sum, st := c.drain(t, 15*time.Second)
	var want spans
	for _, g := range sum.GapRanges {
		want.add(span{int64(g.From) * chainFS, int64(g.To+1)*chainFS - 1})
	}
	if st.Dups != 0 || st.NBad != 0 || len(st.Unannounced) != 0 || st.Lost.total() != int64(sum.LostFrames)*chainFS ||
		len(sum.GapRanges) < 100 && !equalSpans(st.Lost, want) {
		t.Errorf("reader %s; sink reported %d frames lost in %v", st, sum.LostFrames, sum.GapRanges)
	}
	for _, g := range sum.GapRanges {
		if g.Reason != "device" {
			t.Errorf("gap %+v: only device gaps (unplugs) are expected; the network cuts are within the history", g)
		}
	}
	t.Logf("soak %v: %d cuts, %d sink reconnects, %d device gaps (%d frames); reader %s", time.Since(start).Round(time.Second),
		cuts, sum.Reconnects, sum.Gaps, sum.LostFrames, st)
}

func soakSample(t *testing.T, c *chain, el time.Duration) soakRow {
	t.Helper()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	m := c.serve.metrics(t)
	return soakRow{at: el, rssKiB: procStatus(t, os.Getpid(), "VmRSS:"), heapKiB: ms.HeapInuse >> 10,
		goroutines: runtime.NumGoroutine(), samples: c.chk.state().Samples, reconnects: uint64(m["clients_accepted_total"]),
		clients: m["clients"]}
}

// heapProfile writes a heap profile to -soak.heapprofile/name, if set.
func heapProfile(t *testing.T, name string) {
	t.Helper()
	if *soakProfile == "" {
		return
	}
	f, err := os.Create(filepath.Join(*soakProfile, name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	runtime.GC()
	if err := pprof.WriteHeapProfile(f); err != nil {
		t.Fatal(err)
	}
}

func printRow(r soakRow) {
	fmt.Printf("%8s %10d %10d %10d %12d %10d %8.0f\n", r.at.Round(time.Second), r.rssKiB, r.heapKiB, r.goroutines,
		r.samples, r.reconnects, r.clients)
}

// checkFlat compares the last quarter of the rows with the second fifth.
func checkFlat(t *testing.T, rows []soakRow) {
	t.Helper()
	n := len(rows)
	if n < 8 {
		t.Logf("only %d rows: too few to judge flatness (raise -soak.duration or lower -soak.every)", n)
		return
	}
	early, late := rows[n/5:2*n/5], rows[3*n/4:]
	med := func(rs []soakRow, f func(soakRow) float64) float64 {
		v := make([]float64, len(rs))
		for i, r := range rs {
			v[i] = f(r)
		}
		slices.Sort(v)
		return v[len(v)/2]
	}
	var b strings.Builder
	for _, k := range []struct {
		name  string
		f     func(soakRow) float64
		slack float64
	}{
		{"RSS KiB", func(r soakRow) float64 { return float64(r.rssKiB) }, 8 << 10},
		{"heap KiB", func(r soakRow) float64 { return float64(r.heapKiB) }, 8 << 10},
		{"goroutines", func(r soakRow) float64 { return float64(r.goroutines) }, 25},
	} {
		e, l := med(early, k.f), med(late, k.f)
		fmt.Fprintf(&b, "%s %.0f -> %.0f; ", k.name, e, l)
		limit := e + k.slack
		if k.name != "goroutines" {
			limit = e*1.25 + k.slack
		}
		if l > limit {
			t.Errorf("%s grew from %.0f (median of the second fifth) to %.0f (median of the last quarter): over %.0f", k.name, e, l, limit)
		}
	}
	t.Logf("flat: %s", b.String())
}

// dialChurn connects a csv client to srv and closes it, once a second,
// until the returned stop function is called: a per-client leak in serve
// shows up as growth over a soak.
func dialChurn(t testing.TB, srv *serveRig) (stop func()) {
	t.Helper()
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		for {
			select {
			case <-done:
				return
			case <-time.After(time.Second):
			}
			if c, err := dialWS(srv.ws+"?format=csv", nil); err == nil {
				ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
				_, _, _ = c.Read(ctx) // hello
				_, _, _ = c.Read(ctx) // a frame
				cancel()
				c.Close(websocket.StatusNormalClosure, "")
			}
		}
	}()
	return func() { close(done); <-finished }
}
