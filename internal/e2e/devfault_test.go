package e2e

import (
	"slices"
	"testing"
	"time"

	"github.com/wsbridge/wsbridge/internal/adcsim"
	"github.com/wsbridge/wsbridge/internal/sink"
	"github.com/wsbridge/wsbridge/internal/wsproto"
)

// TestDeviceUnplugGarbageCorruption: the simulated ESP32 is unplugged
// every 80 ms (20 cycles; 5 with -short; 100 with -tags load, the figure
// in docs/reliability.md), sends ROM-style boot garbage after each replug,
// and flips each byte with probability 1e-4. serve must never exit;
// binary, json and csv clients connected throughout must stay connected,
// receive every frame the device sent intact, and be told of every missing
// frame with its exact range; serve's counters must agree with the
// device's own.
func TestDeviceUnplugGarbageCorruption(t *testing.T) {
	t.Parallel()
	cycles := size(5, 20, 100)
	cfg := counterConfig(chainRate, chainChans, chainFS)
	cfg.UnplugEvery, cfg.CorruptRate = 80*time.Millisecond, 1e-4
	sim := startSimSettled(t, cfg, 30*time.Millisecond, 400, 0)
	so := serveOptions(sim.link)
	so.Relay.History = 5 * time.Minute
	srv := startServe(t, so)
	srv.waitFrames(t, 1, 5*time.Second)
	downsBefore := srv.metrics(t)["device_downs_total"]
	var recs []*wsRec
	for _, f := range []string{"binary", "json", "csv"} {
		recs = append(recs, dialRec(t, srv.ws+"?since=0&format="+f, f, chainFS, chainChans, nil))
	}
	for _, r := range recs {
		r.waitSeq(t, 0, 5*time.Second)
	}
	chk := newCounterCheck(chainChans)
	sk := startSinkDirect(t, srv, chk)
	downsAfter := srv.metrics(t)["device_downs_total"]
	start := time.Now()
	for sim.attaches.Load() <= int64(cycles) {
		if time.Since(start) > 90*time.Second {
			t.Fatalf("only %d replugs in 90 s", sim.attaches.Load()-1)
		}
		srv.running(t)
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(300 * time.Millisecond)
	sim.stop()
	ds := sim.dev.Stats()
	last := settle(t, srv, recs)
	m := srv.metrics(t)
	checkDeviceCounters(t, m, sim.attaches.Load(), sim.garbage.Load())
	first := recs[0].state().Seqs[0].From
	// What the device wrote intact is the truth; everything else in
	// first..last must be announced as a device gap.
	lost := minus(spans{{first, last}}, sim.wire.sent())
	checkDeviceAccounting(t, ds, sim, lost)
	if m["device_gap_frames_total"] != float64(lost.total()) {
		t.Errorf("serve counted %v frames lost in device gaps; the device did not deliver %d in %d..%d",
			m["device_gap_frames_total"], lost.total(), first, last)
	}
	for _, r := range recs {
		st := waitDowns(r, m["device_downs_total"]-downsAfter)
		checkDeviceClient(t, r.format, st, lost, last)
		if n := float64(st.countStatus(wsproto.StateDown)); n < m["device_downs_total"]-downsAfter || n > m["device_downs_total"]-downsBefore {
			t.Errorf("%s client got %v down statuses; serve counted %v downs, %v of them after the client connected",
				r.format, n, m["device_downs_total"]-downsBefore, m["device_downs_total"]-downsAfter)
		}
	}
	checkDeviceSink(t, sk, chk, lost, last)
	srv.running(t)
	if err := srv.stop(); err != nil {
		t.Errorf("serve.Run returned %v after cancel, want nil", err)
	}
	t.Logf("%d unplugs in %v, %d garbage bytes; device: %d frames, %d sent, %d detached, %d dropped, %d corrupted (%d bytes, %d other packets); "+
		"clients saw %d device gaps (%d frames); serve: gaps %v (%v frames), crc %v, malformed %v, noise %v bytes, downs %v, reopens %v",
		ds.Unplugs, time.Since(start).Round(time.Millisecond), sim.garbage.Load(), ds.Frames, ds.Sent, ds.Detached, ds.Dropped,
		ds.Corrupted, ds.CorruptedBytes, ds.CorruptedOther, len(lost), lost.total(), m["device_gaps_total"], m["device_gap_frames_total"],
		m["serial_crc_errors_total"], m["serial_malformed_total"], m["serial_noise_bytes_total"], m["device_downs_total"], m["device_reopens_total"])
}

// startSinkDirect runs a csv sink connected straight to serve.
func startSinkDirect(t *testing.T, srv *serveRig, chk *counterCheck) *sinkRig {
	t.Helper()
	o := sink.DefaultOptions()
	o.URL, o.StatusInterval = srv.ws, 0
	sk := startSink(t, o, chk)
	sk.reader.waitLines(t, 1, 10*time.Second)
	return sk
}

// checkDeviceSink checks what R would see through the sink: every sample
// the device delivered, exactly once, and holes exactly where the device
// lost frames, which the sink reported as gaps.
func checkDeviceSink(t *testing.T, sk *sinkRig, chk *counterCheck, lost spans, last int64) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); chk.state().Next < (last+1)*chainFS; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("sink reader at index %d, want %d", chk.state().Next, (last+1)*chainFS)
		}
	}
	sum := sk.stop(t)
	st := chk.state()
	first := st.First / chainFS
	var want spans
	for _, g := range lost.within(first, last) {
		want.add(span{g.From * chainFS, (g.To+1)*chainFS - 1})
	}
	if st.Dups != 0 || st.NBad != 0 || !equalSpans(st.Lost, want) || len(st.Unannounced) != 0 {
		t.Errorf("sink reader: %s; want holes exactly at %v, each right after a gap line", st, want)
	}
	// A sink that connects while the device is away starts at the seq
	// expected next and is told of the frames lost before its first one.
	if len(sum.GapRanges) > 0 && int64(sum.GapRanges[0].From) < first {
		first = int64(sum.GapRanges[0].From)
	}
	if int64(sum.LostFrames) != lost.within(first, last).total() || sum.DroppedFrames != 0 {
		t.Errorf("sink reported %d frames lost in %d gaps %v and %d dropped; the device lost %d in %d..%d",
			sum.LostFrames, sum.Gaps, sum.GapRanges, sum.DroppedFrames, lost.within(first, last).total(), first, last)
	}
	t.Logf("sink: %d gaps (%d frames) reported, reader holes match; %d samples", sum.Gaps, sum.LostFrames, st.Samples)
}

// checkDeviceAccounting checks that the device's own counters explain the
// frames that did not leave it intact: its corrupted seqs and the ranges
// it logged as generated while unplugged or dropped are all among them,
// and the rest are frames whose write an unplug cut short (counted only
// as Frames - Sent - Detached - Dropped, without seqs).
func checkDeviceAccounting(t *testing.T, ds adcsim.Stats, sim *simRig, lost spans) {
	t.Helper()
	if len(lost) == 0 {
		t.Errorf("the device lost nothing in %d unplugs: the fault injection did not work", ds.Unplugs)
		return
	}
	corrupted := make([]int64, 0, len(ds.CorruptedSeqs))
	for _, s := range ds.CorruptedSeqs {
		corrupted = append(corrupted, int64(s))
	}
	slices.Sort(corrupted)
	explained := union(fromPoints(corrupted), sim.lostSeqs()).within(lost[0].From, lost[len(lost)-1].To)
	if missing := minus(explained, lost); len(missing) > 0 {
		t.Errorf("the device counts %v as corrupted or unplugged, but they were written intact", missing)
	}
	cut := ds.Frames - ds.Sent - ds.Detached - ds.Dropped
	if unexplained := minus(lost, explained); uint64(unexplained.total()) > cut {
		t.Errorf("frames %v did not leave the device intact and its counters do not say why (only %d cut-short writes)", unexplained, cut)
	} else if len(unexplained) > 0 {
		t.Logf("frames %v were cut short by an unplug (the device counts %d such frames, without seqs; %d \"write was blocked\" warnings)",
			unexplained, cut, len(sim.log.LogEntries("unplugging while a write was blocked")))
	}
}

// waitDowns waits up to 2 s for the client to have at least n down
// statuses (the last one, from stopping the simulator, may be in flight)
// and returns its state.
func waitDowns(r *wsRec, n float64) recState {
	deadline := time.Now().Add(2 * time.Second)
	for {
		st := r.state()
		if float64(st.countStatus(wsproto.StateDown)) >= n || time.Now().After(deadline) {
			return st
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// settle waits until every client has the last frame serve published and
// returns its seq.
func settle(t *testing.T, srv *serveRig, recs []*wsRec) int64 {
	t.Helper()
	// The simulator is stopped: wait until serve has noticed (its device
	// counters are final then), then let it publish what it had read.
	for deadline := time.Now().Add(5 * time.Second); srv.metrics(t)["device_up"] != 0; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("serve still reports the device up 5 s after the simulator stopped")
		}
	}
	time.Sleep(100 * time.Millisecond)
	m := srv.metrics(t)
	if m["frames_received_total"] == 0 {
		t.Fatal("serve published no frames")
	}
	last := srv.nextSeq(t) - 1
	for _, r := range recs {
		r.waitSeq(t, last, 10*time.Second)
	}
	return last
}

// checkDeviceClient checks one client: connected once and still; frames
// and device gaps tile [first, last] without overlap; the gaps are exactly
// the seqs the device lost; every sample is the counter.
func checkDeviceClient(t *testing.T, name string, st recState, lost spans, last int64) {
	t.Helper()
	if len(st.Hellos) != 1 {
		t.Errorf("%s: %d hellos: the client was disconnected", name, len(st.Hellos))
	}
	if len(st.Seqs) == 0 {
		t.Fatalf("%s: no frames", name)
	}
	first := st.Seqs[0].From
	gaps := st.gapSpans(wsproto.GapDevice)
	whole := union(st.Seqs, gaps)
	if st.Seqs.total()+gaps.total() != last-first+1 || len(whole) != 1 || whole[0] != (span{first, last}) {
		t.Errorf("%s: frames %v and device gaps %v do not tile %d..%d exactly once", name, st.Seqs, gaps, first, last)
	}
	if want := lost.within(first, last); !equalSpans(gaps, want) {
		t.Errorf("%s: device gaps %v (%d frames), but the device lost %v (%d frames: corrupted, unplugged, dropped); "+
			"gaps the device does not explain: %v; losses not announced: %v",
			name, gaps, gaps.total(), want, want.total(), minus(gaps, want), minus(want, gaps))
	}
	c := st.Counter
	if c.Dups != 0 || c.NBad != 0 || st.DupSeqs != 0 || len(st.Other) != 0 {
		t.Errorf("%s: %s; duplicate frames %d; unexpected messages %q", name, c, st.DupSeqs, st.Other)
	}
	var wantLost spans
	for _, g := range gaps {
		wantLost.add(span{g.From * chainFS, (g.To+1)*chainFS - 1})
	}
	if !equalSpans(c.Lost, wantLost) {
		t.Errorf("%s: samples missing %v, but the gaps announced %v", name, c.Lost, wantLost)
	}
	if len(st.Errs) != 0 || len(st.gapSpans(wsproto.GapSlowClient)) != 0 {
		t.Errorf("%s: errors %v, slow-client gaps %v", name, st.Errs, st.gapSpans(wsproto.GapSlowClient))
	}
}

// checkDeviceCounters compares serve's metrics with the device's counters.
func checkDeviceCounters(t *testing.T, m map[string]float64, attaches int64, garbage uint64) {
	t.Helper()
	// Every attachment of the device ended (unplug or the final stop) and
	// every one after the first was a reopen.
	// The last attachment may end (the test stops the simulator) before
	// serve's reopen backoff (100 ms) gets to it.
	downs, reopens := m["device_downs_total"], m["device_reopens_total"]
	if downs != reopens+1 || reopens > float64(attaches-1) || reopens < float64(attaches-2) {
		t.Errorf("serve counted %v downs and %v reopens; the device was attached %d times", downs, reopens, attaches)
	}
	if m["serial_noise_bytes_total"] < float64(garbage) {
		t.Errorf("serve counted %v noise bytes, but %d bytes of boot garbage were sent", m["serial_noise_bytes_total"], garbage)
	}
}
