package e2e

import (
	"net/url"
	"testing"
	"time"

	"github.com/wsbridge/wsbridge/internal/faultproxy"
	"github.com/wsbridge/wsbridge/internal/sink"
)

// The stream of the network tests: counter, 2 channels of i32, 8 kHz,
// 80 samples per frame (100 frames/s, 650 bytes per frame).
const (
	chainRate  = 8000
	chainChans = 2
	chainFS    = 80
)

// chain is sim -> serve -> faultproxy -> sink -> pty reader.
type chain struct {
	sim   *simRig
	serve *serveRig
	proxy *faultproxy.Proxy
	sink  *sinkRig
	chk   *counterCheck
}

// chainOpts tune a chain; zero values are serve's and sink's defaults and a
// device that stays plugged in.
type chainOpts struct {
	history   time.Duration
	servePing time.Duration
	sinkPing  time.Duration
	// unplugEvery > 0 unplugs the simulated device that often; it comes
	// back after replugPause with garbage bytes of boot noise (see startSim).
	unplugEvery, replugPause time.Duration
	garbage                  int
}

func startChain(t *testing.T, co chainOpts) *chain {
	t.Helper()
	c := &chain{chk: newCounterCheck(chainChans)}
	cfg := counterConfig(chainRate, chainChans, chainFS)
	cfg.UnplugEvery = co.unplugEvery
	c.sim = startSim(t, cfg, co.replugPause, co.garbage)
	so := serveOptions(c.sim.link)
	so.Relay.History, so.Relay.PingInterval = co.history, co.servePing
	c.serve = startServe(t, so)
	c.proxy = newProxy(t, c.serve)
	c.sink = startSinkVia(t, c.proxy, c.chk, co.sinkPing)
	c.sink.reader.waitLines(t, chainFS, 10*time.Second)
	return c
}

// newProxy puts a faultproxy in front of serve.
func newProxy(t testing.TB, srv *serveRig) *faultproxy.Proxy {
	t.Helper()
	u, _ := url.Parse(srv.ws)
	p, err := faultproxy.New(u.Host)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

// startSinkVia runs a csv sink connected through p with fast reconnects.
func startSinkVia(t testing.TB, p *faultproxy.Proxy, chk *counterCheck, ping time.Duration) *sinkRig {
	t.Helper()
	o := sink.DefaultOptions()
	o.URL = "ws://" + p.Addr() + "/ws"
	o.BackoffMin, o.BackoffMax, o.PingInterval, o.StatusInterval = 5*time.Millisecond, 50*time.Millisecond, ping, 0
	// The reader reads until the sink has flushed all it holds at stop
	// (drain): the default 2 s was too short under -race at load 22, and
	// the sink counted the rest as dropped at exit (TestNetworkHalfOpenDetected:
	// "sink summary reports loss: ... dropped 39" with the reader missing nothing).
	o.FlushTimeout = 30 * time.Second
	return startSink(t, o, chk)
}

// waitConnected waits until the sink has a connection through the proxy.
func (c *chain) waitConnected(t *testing.T) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); c.proxy.Stats().Active == 0; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("sink did not reconnect within 10 s")
		}
	}
}

// drain waits until the reader has every sample serve published so far,
// then stops the sink and returns its summary and the reader's verdict.
func (c *chain) drain(t *testing.T, d time.Duration) (sink.Summary, counterState) {
	t.Helper()
	want := c.serve.nextSeq(t) * chainFS // index after the last published sample
	deadline := time.Now().Add(d)
	for c.chk.state().Next < want && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	sum := c.sink.stop(t)
	st := c.chk.state()
	if st.Next < want {
		t.Errorf("reader reached index %d within %v, serve had published up to %d", st.Next, d, want)
	}
	return sum, st
}

// expectExact fails unless the reader saw every sample exactly once.
func expectExact(t *testing.T, st counterState, sum sink.Summary) {
	t.Helper()
	if st.Lost.total() != 0 || st.Dups != 0 || st.NBad != 0 || st.GapLines != 0 {
		t.Errorf("reader: %s", st)
	}
	if sum.Gaps != 0 || sum.LostFrames != 0 || sum.DroppedFrames != 0 {
		t.Errorf("sink summary reports loss: gaps %d (%d frames) %v, dropped %d", sum.Gaps, sum.LostFrames, sum.GapRanges, sum.DroppedFrames)
	}
}

func TestChainBaselineExact(t *testing.T) {
	c := startChain(t, chainOpts{})
	c.sink.reader.waitLines(t, chainRate/2, 10*time.Second)
	sum, st := c.drain(t, 5*time.Second)
	expectExact(t, st, sum)
	if sum.Reconnects != 0 {
		t.Errorf("sink reconnected %d times on a healthy link", sum.Reconnects)
	}
	t.Logf("baseline: %s; sink %d frames", st, sum.Frames)
}
