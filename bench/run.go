//go:build linux

package main

import (
	"context"
	"fmt"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/wsbridge/wsbridge/bench/internal/benchenv"
	"github.com/wsbridge/wsbridge/internal/vport"
)

// workload is one input stream.
type workload struct {
	name         string // "48k", "flat", "text1k" or "text48k"
	title        string
	rate         uint32 // sample rate in the frames (and the pace when !flat); lines/s for text
	frameSamples int    // 1 for text: a line is one sample instant
	flat         bool
	text         bool // counter lines (Serial.println) instead of frames
	maxConsumers int  // run with at most this many consumers (0: any)
	duration     time.Duration
	settle       time.Duration // pause between connecting the consumers and the first write
}

// runResult is one run of one system on one workload with n consumers.
type runResult struct {
	system    string
	workload  string
	consumers int
	rep       int
	written   writeResult
	tallies   []*tally
	cpuPct    float64 // bridge process group, % of one core over the run
	swPerFrm  float64 // context switches of the bridge per frame written
	rssMB     float64 // VmRSS at the end
	hwmMB     float64 // VmHWM: peak RSS
	lat       hist    // merged over consumers
	mbps      float64 // min over consumers of sample MB/s delivered
	aggMBps   float64 // sum over consumers
	lost      uint64  // samples written but not received, summed over consumers
	late      uint64  // of those, samples after the last one received: still undelivered when the drain ended
	reported  uint64  // of those, samples the bridge reported as dropped (gap messages)
	expected  uint64  // samples written times consumers
	badFrames uint64  // frames whose samples were not the counter signal
	errs      []string
	wall      time.Duration // the whole run, start to stop
	accept    time.Duration // from the last connect returning to the bridge having accepted all
}

// drainLimit bounds the wait for the last frames after the writer stops.
const drainLimit = 5 * time.Second

// runOnce runs sys on w with n consumers: a fresh pty, the bridge, the
// consumers, the writer, the drain; everything it starts is stopped.
func runOnce(ctx context.Context, e *env, sys system, w workload, n, rep int) (res runResult) {
	res = runResult{system: sys.name, workload: w.name, consumers: n, rep: rep}
	began := time.Now()
	defer func() { res.wall = time.Since(began) }()
	fail := func(err error) runResult { res.errs = append(res.errs, err.Error()); return res }
	port, err := vport.Create("")
	if err != nil {
		return fail(err)
	}
	defer port.Close()
	tcp, err := benchenv.FreePort()
	if err != nil {
		return fail(err)
	}
	p, err := sys.start(e, port.Name(), tcp, w)
	if err != nil {
		return fail(err)
	}
	defer p.Stop()
	if err := waitListening(ctx, p, tcp, 20*time.Second); err != nil {
		return fail(err)
	}
	tListen := time.Now()
	ck := newClock()
	var stamps lineStamps
	if w.text {
		stamps = newLineStamps(w)
	}
	cs, err := connect(ctx, sys.wire, tcp, ck, w, n, stamps)
	defer closeAll(cs)
	if err != nil {
		return fail(err)
	}
	if res.accept, err = waitAccepted(tcp, n, 20*time.Second); err != nil {
		return fail(fmt.Errorf("%s: %w", sys.name, err))
	}
	time.Sleep(w.settle) // let the bridge open the port and register every client
	u0, err := groupUsage(p.pid())
	if err != nil {
		return fail(fmt.Errorf("%s died before the run: %s", sys.name, p.tail()))
	}
	t0 := time.Now()
	res.written = write(port, w, ck, stamps)
	tDrain := time.Now()
	drain(cs, res.written.frames, drainLimit)
	tDone := time.Now()
	if sys.snapshot != nil {
		sys.snapshot(p)
	}
	defer func() {
		if os.Getenv("BENCH_DEBUG") != "" {
			note("phases: start %v connect %v write %v drain %v stop %v", tListen.Sub(began), t0.Sub(tListen),
				tDrain.Sub(t0), tDone.Sub(tDrain), time.Since(tDone))
		}
	}()
	u1, err := groupUsage(p.pid())
	if err == nil {
		res.cpuPct = 100 * (u1.cpu - u0.cpu) / time.Since(t0).Seconds()
		res.rssMB, res.hwmMB = float64(u1.rss)/1024, float64(u1.hwm)/1024
		if res.written.writes > 0 {
			res.swPerFrm = float64(u1.ctxsw-u0.ctxsw) / float64(res.written.writes)
		}
	} else {
		res.errs = append(res.errs, fmt.Sprintf("%s died during the run: %s", sys.name, p.tail()))
	}
	closeAll(cs)
	res.collect(cs, w)
	return res
}

// connect dials n consumers, all before the first write: WebSocket
// consumers 16 at a time (the handshake proves the bridge accepted them);
// raw TCP consumers one at a time, each accepted before the next, because
// ser2net listens with a backlog of 5 and a client that connects beyond it
// believes it is connected while the server never sees it.
func connect(ctx context.Context, wire string, port int, ck clock, w workload, n int, stamps lineStamps) ([]*consumer, error) {
	par := 16
	if wire == wireTCP {
		par = 1
	}
	cs := make([]*consumer, n)
	errs := make([]error, n)
	sem := make(chan struct{}, par)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			t := &tally{checkAll: !w.flat, frameSample: w.frameSamples, stamps: stamps}
			cs[i], errs[i] = dialConsumer(ctx, wire, addr(port), ck, t)
			if errs[i] == nil && wire == wireTCP {
				_, errs[i] = waitAccepted(port, i+1, 5*time.Second)
			}
		}()
	}
	wg.Wait()
	ok := slices.DeleteFunc(slices.Clone(cs), func(c *consumer) bool { return c == nil })
	for i, err := range errs {
		if err != nil {
			return ok, fmt.Errorf("consumer %d of %d: %w", i+1, n, err)
		}
	}
	return ok, nil
}

func write(port *vport.Port, w workload, ck clock, stamps lineStamps) writeResult {
	if w.text {
		return writeText(port, w, ck, stamps)
	}
	s := newStream(w.rate, w.frameSamples)
	if _, err := port.Write(s.info(nil)); err != nil {
		return writeResult{err: err}
	}
	if w.flat {
		return writeFlat(port, s, ck, w.duration, 8)
	}
	return writePaced(port, s, ck, w.duration)
}

// drain waits until every consumer has every frame, or progress stops.
func drain(cs []*consumer, frames uint32, limit time.Duration) {
	deadline := time.Now().Add(limit)
	var last uint64
	stall := time.Now()
	for time.Now().Before(deadline) {
		var total, least uint64 = 0, ^uint64(0)
		for _, c := range cs {
			v := c.t.progress.Load()
			total += v
			least = min(least, v)
		}
		if least >= uint64(frames) {
			return
		}
		if total != last {
			last, stall = total, time.Now()
		} else if time.Since(stall) > 700*time.Millisecond {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// collect turns the tallies into the run's figures.
func (r *runResult) collect(cs []*consumer, w workload) {
	if r.written.err != nil {
		r.errs = append(r.errs, "writer: "+r.written.err.Error())
	}
	want := uint64(r.written.frames)
	per := make([]float64, 0, len(cs))
	for i, c := range cs {
		t := c.t
		r.tallies = append(r.tallies, t)
		r.lat.merge(&t.lat)
		got := min(t.frames, want)
		r.lost += (want - got) * uint64(w.frameSamples)
		if next, started := t.next(); !started {
			r.late += want * uint64(w.frameSamples)
		} else if next < want {
			r.late += (want - next) * uint64(w.frameSamples)
		}
		r.reported += t.gapFrames * uint64(w.frameSamples)
		r.badFrames += t.badSamples
		if t.err != nil && len(r.errs) < 5 {
			r.errs = append(r.errs, fmt.Sprintf("consumer %d: %v", i+1, t.err))
		}
		span := float64(t.lastUS-r.written.startUS) / 1e6
		mb := 0.0
		if t.frames > 0 && span > 0 {
			mb = float64(t.sampleBytes) / 1e6 / span
		}
		per = append(per, mb)
		r.aggMBps += mb
	}
	r.expected = want * uint64(w.frameSamples) * uint64(len(cs))
	if len(per) > 0 {
		r.mbps = slices.Min(per)
	}
}
