package e2e

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/wsbridge/wsbridge/internal/faultproxy"
)

// cutEvery cuts the sink's connection n times, waiting a random 50..100 ms
// between cuts, alternating FIN and RST. It cuts only a session that has
// carried frames since the last cut (cutMinBytes down), so that every cut
// ends an established session, never a handshake still in progress (which
// the sink counts as a failed attempt, not a reconnect). Bounded by limit.
func cutEvery(t *testing.T, p *faultproxy.Proxy, n int, limit time.Duration) {
	t.Helper()
	rng := rand.New(rand.NewPCG(1, 2))
	deadline := time.Now().Add(limit)
	down := p.Stats().BytesDown
	for cuts := 0; cuts < n; {
		if time.Now().After(deadline) {
			t.Fatalf("only %d of %d cuts within %v: the sink is not reconnecting", cuts, n, limit)
		}
		time.Sleep(time.Duration(50+rng.IntN(51)) * time.Millisecond)
		if p.Stats().BytesDown < down+cutMinBytes {
			continue
		}
		mode := faultproxy.CutFIN
		if cuts%2 == 1 {
			mode = faultproxy.CutRST
		}
		if p.Cut(mode) > 0 {
			cuts++
			down = p.Stats().BytesDown
		}
	}
}

// cutMinBytes is what a new session carries before cutEvery cuts it: the
// handshake answer, the hello and a few frames of the chain's stream.
const cutMinBytes = 4 * 650

// TestNetworkCutsLoseNothing: 100 cuts (FIN and RST alternately) at 50 to
// 100 ms intervals, all within serve's history: the reader of the sink's
// port sees every sample exactly once.
func TestNetworkCutsLoseNothing(t *testing.T) {
	t.Parallel()
	n := 100
	if testing.Short() {
		n = 20
	}
	c := startChain(t, chainOpts{sinkPing: time.Second})
	start := time.Now()
	cutEvery(t, c.proxy, n, 60*time.Second)
	el := time.Since(start)
	c.waitConnected(t)
	sum, st := c.drain(t, 10*time.Second)
	expectExact(t, st, sum)
	// Every cut forces a reconnect; the last may still be in its handshake.
	if sum.Reconnects < uint64(n-1) {
		t.Errorf("sink reconnected %d times for %d cuts", sum.Reconnects, n)
	}
	ps := c.proxy.Stats()
	t.Logf("%d cuts in %v: reader %s; sink: %d reconnects, %d duplicate frames dropped; proxy: %d connections, %d B down",
		n, el.Round(time.Millisecond), st, sum.Reconnects, sum.Duplicates, ps.Accepted, ps.BytesDown)
}

// TestNetworkHalfOpenDetected: the link goes silent without FIN or RST
// (a black hole). The sink must notice by its pings, reconnect and lose
// nothing; serve must drop the dead client by its own pings.
func TestNetworkHalfOpenDetected(t *testing.T) {
	t.Parallel()
	n := 5
	if testing.Short() {
		n = 2
	}
	const ping = 200 * time.Millisecond
	c := startChain(t, chainOpts{sinkPing: ping, servePing: ping})
	var worst time.Duration
	for i := 0; i < n; i++ {
		before := c.proxy.Stats().Accepted
		if c.proxy.HalfOpen() != 1 {
			t.Fatalf("half-open %d: no connection to black-hole", i)
		}
		t0 := time.Now()
		for c.proxy.Stats().Accepted == before {
			if time.Since(t0) > 10*time.Second {
				t.Fatalf("half-open %d: sink did not reconnect within 10 s (ping %v)", i, ping)
			}
			time.Sleep(5 * time.Millisecond)
		}
		worst = max(worst, time.Since(t0))
		time.Sleep(300 * time.Millisecond)
	}
	sum, st := c.drain(t, 10*time.Second)
	expectExact(t, st, sum)
	m := c.serve.metrics(t)
	if m["client_ping_timeouts_total"] < 1 {
		t.Errorf("serve dropped no client for a missing pong after %d black holes (client_ping_timeouts_total %v)", n, m["client_ping_timeouts_total"])
	}
	t.Logf("%d half-open links, ping %v: sink reconnected within %v at worst; serve ping timeouts %v; reader %s",
		n, ping, worst.Round(time.Millisecond), m["client_ping_timeouts_total"], st)
}

// TestNetworkStallsAndBandwidthCap: stalls of 100 to 600 ms (the longer
// ones trip the sink's ping and force a reconnect), then a bandwidth cap
// below the stream's rate for 2 s, then the cap lifted: within the history
// nothing is lost, nothing duplicated.
func TestNetworkStallsAndBandwidthCap(t *testing.T) {
	t.Parallel()
	c := startChain(t, chainOpts{sinkPing: 250 * time.Millisecond})
	stalls := []time.Duration{100 * time.Millisecond, 300 * time.Millisecond, 600 * time.Millisecond, 150 * time.Millisecond}
	if testing.Short() {
		stalls = stalls[:2]
	}
	for _, d := range stalls {
		c.proxy.Stall()
		time.Sleep(d)
		c.proxy.Resume()
		time.Sleep(300 * time.Millisecond)
	}
	// Binary frames are 650 bytes at 100 frames/s: 65 kB/s. Cap at 30 kB/s.
	c.proxy.SetRate(30_000)
	mid := c.chk.state().Next
	time.Sleep(2 * time.Second)
	behind := c.serve.nextSeq(t)*chainFS - c.chk.state().Next
	c.proxy.SetRate(0)
	sum, st := c.drain(t, 10*time.Second)
	expectExact(t, st, sum)
	if behind < chainRate/2 {
		t.Errorf("the 30 kB/s cap left the reader only %d samples behind: the cap did not bite (read %d during it)", behind, c.chk.state().Next-mid)
	}
	t.Logf("stalls %v, then 2 s at 30 kB/s (reader fell %d samples behind, then caught up): %d reconnects; reader %s",
		stalls, behind, sum.Reconnects, st)
}

// TestNetworkOutageBeyondHistoryReportsExactRange: the link is down (cut,
// then every attempt reset) for 2.5 s while serve keeps 1 s of history.
// The sink must report exactly the frames the reader never got: one gap,
// reason history, whose range times the frame size is the reader's hole.
func TestNetworkOutageBeyondHistoryReportsExactRange(t *testing.T) {
	t.Parallel()
	c := startChain(t, chainOpts{history: time.Second, sinkPing: time.Second})
	c.proxy.Refuse(true)
	c.proxy.Cut(faultproxy.CutRST)
	time.Sleep(2500 * time.Millisecond)
	c.proxy.Refuse(false)
	c.waitConnected(t)
	time.Sleep(200 * time.Millisecond)
	sum, st := c.drain(t, 10*time.Second)
	if st.Dups != 0 || st.NBad != 0 || st.GapLines != 1 || len(st.Unannounced) != 0 {
		t.Errorf("reader: %s; want the hole right after one gap line", st)
	}
	if len(sum.GapRanges) != 1 || sum.GapRanges[0].Reason != "history" {
		t.Fatalf("sink gaps %+v: want exactly one history gap", sum.GapRanges)
	}
	g := sum.GapRanges[0]
	want := spans{{int64(g.From) * chainFS, int64(g.To+1)*chainFS - 1}}
	if !equalSpans(st.Lost, want) {
		t.Errorf("reader lost samples %v; sink reported frames %d..%d = samples %v", st.Lost, g.From, g.To, want)
	}
	if sum.DroppedFrames != 0 {
		t.Errorf("sink dropped %d frames besides the gap", sum.DroppedFrames)
	}
	t.Logf("2.5 s outage, 1 s history: gap %d..%d (%d frames, %s) = reader's hole %v", g.From, g.To, g.Count, g.Reason, st.Lost)
}
