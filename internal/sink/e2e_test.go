package sink

// End to end: simulator (counter) on a pty -> serve (capture + relay) ->
// sink --virtual -> a reader that opens the pty slave as R does.

import (
	"bytes"
	"fmt"
	"io"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/wsbridge/wsbridge/internal/adcsim"
	"github.com/wsbridge/wsbridge/internal/faultproxy"
	"github.com/wsbridge/wsbridge/internal/serve"
	"github.com/wsbridge/wsbridge/internal/testsupport"
	"github.com/wsbridge/wsbridge/internal/testsupport/rig"
	"github.com/wsbridge/wsbridge/internal/vport"
	"github.com/wsbridge/wsbridge/internal/wsproto"
)

const (
	e2eRate = 1000
	e2eF    = 10 // sample instants per frame: sample index = seq*e2eF + j
)

// teePort records every byte the simulated device writes.
type teePort struct {
	*vport.Port
	raw *testsupport.SyncBuffer
}

func (p teePort) Write(b []byte) (int, error) {
	n, err := p.Port.Write(b)
	p.raw.Write(b[:n])
	return n, err
}

// startSim runs a counter device (2 channels of i32: k and k+1 at sample
// index k) on a pty and returns the pty's link and the device's bytes.
func startSim(t *testing.T, rate uint32) (string, *testsupport.SyncBuffer) {
	t.Helper()
	return startSimLag(t, rate, 5*time.Second)
}

// startSimLag is startSim with the device's max lag: how late its output
// may fall (nobody reading, or a starved machine) before it drops frames.
func startSimLag(t *testing.T, rate uint32, maxLag time.Duration) (string, *testsupport.SyncBuffer) {
	t.Helper()
	cfg := adcsim.DefaultConfig()
	cfg.Signal, cfg.Rate, cfg.Channels, cfg.SampleType, cfg.FrameSamples = "counter", rate, 2, "i32", e2eF
	cfg.MaxLag = maxLag
	raw := &testsupport.SyncBuffer{}
	link := rig.Device(t, cfg, func(p *vport.Port) io.ReadWriter { return teePort{p, raw} })
	return link, raw
}

// startServe runs serve on the device at link, listening on listen
// (127.0.0.1:0 for any port).
func startServe(t testing.TB, link, listen string, history time.Duration) *testsupport.Served {
	t.Helper()
	return rig.Serve(t, link, func(o *serve.Options) {
		o.Relay.Listen, o.Relay.History, o.Relay.AllowCommands = listen, history, true
		o.Relay.PingInterval = time.Second
	})
}

// counterValues parses text output of the counter device into sample
// indices, checking every line: csv "k,k+1" (or the plain/plotter forms).
func counterValues(t *testing.T, out []byte, format string) []int64 {
	t.Helper()
	var vals []int64
	out = out[:bytes.LastIndexByte(out, '\n')+1] // the reader may stop mid-line
	for i, l := range strings.Split(strings.TrimSuffix(string(out), "\n"), "\n") {
		if strings.HasPrefix(l, "#") {
			continue
		}
		var a, b int64
		var err error
		switch format {
		case FormatPlain:
			_, err = fmt.Sscanf(l, "%d %d", &a, &b)
		case FormatPlotter:
			_, err = fmt.Sscanf(l, "ch0:%d,ch1:%d", &a, &b)
		default:
			_, err = fmt.Sscanf(l, "%d,%d", &a, &b)
		}
		if err != nil || b != a+1 {
			t.Fatalf("%s line %d %q is not a counter sample: %v", format, i, l, err)
		}
		vals = append(vals, a)
	}
	return vals
}

// holes lists the sample index ranges missing between consecutive values,
// failing on any duplicate or reordering.
func holes(t *testing.T, vals []int64) [][2]int64 {
	t.Helper()
	var out [][2]int64
	for i := 1; i < len(vals); i++ {
		switch d := vals[i] - vals[i-1]; {
		case d <= 0:
			t.Fatalf("sample %d after %d: duplicate or out of order (at line %d)", vals[i], vals[i-1], i)
		case d > 1:
			out = append(out, [2]int64{vals[i-1] + 1, vals[i] - 1})
		}
	}
	return out
}

// reportedHoles converts the sink's gap and drop ranges (frames) into
// merged sample index ranges.
func reportedHoles(sum Summary) [][2]int64 {
	var r [][2]int64
	for _, g := range sum.GapRanges {
		r = append(r, [2]int64{int64(g.From) * e2eF, int64(g.To+1)*e2eF - 1})
	}
	for _, d := range sum.DropRanges {
		r = append(r, [2]int64{int64(d.From) * e2eF, int64(d.To+1)*e2eF - 1})
	}
	sort.Slice(r, func(i, j int) bool { return r[i][0] < r[j][0] })
	var m [][2]int64
	for _, x := range r {
		if n := len(m); n > 0 && m[n-1][1]+1 == x[0] {
			m[n-1][1] = x[1]
			continue
		}
		m = append(m, x)
	}
	return m
}

// clipHoles keeps the parts of the sample ranges hs that lie strictly
// between first and last.
func clipHoles(hs [][2]int64, first, last int64) [][2]int64 {
	var out [][2]int64
	for _, h := range hs {
		h[0], h[1] = max(h[0], first+1), min(h[1], last-1)
		if h[0] <= h[1] {
			out = append(out, h)
		}
	}
	return out
}

func needE2E(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test: skipped with -short")
	}
}

func TestE2EEverySampleOnceInEachFormat(t *testing.T) {
	needE2E(t)
	link, simRaw := startSim(t, e2eRate)
	sp := startServe(t, link, "127.0.0.1:0", 10*time.Second)
	formats := []string{FormatCSV, FormatPlain, FormatPlotter, FormatRaw}
	sinks := make([]*running, len(formats))
	readers := make([]chan []byte, len(formats))
	for i, f := range formats {
		sinks[i] = startSink(t, sp.WS, func(o *Options) { o.Format = f })
		rd := openLikeR(t, sinks[i].info.Name)
		readers[i] = make(chan []byte, 1)
		go func() { readers[i] <- readFor(rd, 1500*time.Millisecond) }()
	}
	for i, f := range formats {
		out := <-readers[i]
		sum := sinks[i].stop(t)
		// (drops may happen at exit: the reader has stopped reading)
		if sum.Duplicates != 0 || sum.Frames < 50 {
			t.Errorf("%s: summary %+v", f, sum)
		}
		if f == FormatRaw {
			checkRaw(t, out, []byte(simRaw.String()))
			continue
		}
		vals := counterValues(t, out, f)
		checkOnlyDeviceLoss(t, vals, sum)
		// the sink keeps writing after the reader stops: what was read is
		// a prefix of what the sink wrote, from the first frame it received
		if uint64(len(vals)) > sum.Samples || len(vals) < 500 || vals[0]%e2eF != 0 {
			t.Errorf("%s: reader got %d samples from %d, sink wrote %d", f, len(vals), vals[0], sum.Samples)
		}
		t.Logf("%s: %d samples %d..%d in order, exactly once", f, len(vals), vals[0], vals[len(vals)-1])
	}
}

// checkRaw: the sink's raw output is the device's info packet, then data
// packets each byte-identical to one the device wrote. They usually form
// one contiguous run of its output; that is logged, not required, since a
// loss on the device's side (reported as a gap) breaks the run.
func checkRaw(t *testing.T, out, sim []byte) {
	t.Helper()
	// cut at a packet boundary: the reader may have stopped mid-packet
	out = out[:bytes.LastIndexByte(out, 0)+1]
	first := bytes.IndexByte(out, 0) + 1
	sim = bytes.TrimLeft(sim, "\x00") // the device starts with a delimiter
	simFirst := bytes.IndexByte(sim, 0) + 1
	if !bytes.Equal(out[:first], sim[:simFirst]) {
		t.Errorf("raw: first packet (device info) %x differs from the device's %x", out[:first], sim[:simFirst])
	}
	data := out[first:]
	n := 0
	for _, pkt := range bytes.SplitAfter(data, []byte{0}) {
		if len(pkt) == 0 {
			continue
		}
		if !bytes.Contains(sim, pkt) {
			t.Fatalf("raw: packet %d (%x...) is not in the device's output", n, pkt[:min(len(pkt), 16)])
		}
		n++
	}
	if n < 100 || !bytes.Contains(sim, data) {
		t.Logf("raw: %d packets, each byte-identical to the device's; contiguous run: %v", n, bytes.Contains(sim, data))
	}
	if n < 100 {
		t.Fatalf("raw: only %d packets", n)
	}
	t.Logf("raw: %d bytes identical to the device's output", len(data))
}

func TestE2ECutsWithinHistoryLoseNothing(t *testing.T) {
	needE2E(t)
	link, _ := startSim(t, e2eRate)
	sp := startServe(t, link, "127.0.0.1:0", 10*time.Second)
	px, err := faultproxy.New(strings.TrimPrefix(strings.TrimSuffix(sp.WS, "/ws"), "ws://"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { px.Close() })
	r := startSink(t, "ws://"+px.Addr()+"/ws", func(o *Options) { o.PingInterval = 200 * time.Millisecond })
	rd := openLikeR(t, r.info.Name)
	got := make(chan []byte, 1)
	go func() { got <- readFor(rd, 3*time.Second) }()
	for i := range 6 {
		time.Sleep(300 * time.Millisecond)
		switch i % 3 {
		case 0:
			px.Cut(faultproxy.CutRST)
		case 1:
			px.Cut(faultproxy.CutFIN)
		case 2:
			px.HalfOpen() // silence: only the sink's pings notice
		}
	}
	out := <-got
	sum := r.stop(t)
	vals := counterValues(t, out, FormatCSV)
	checkOnlyDeviceLoss(t, vals, sum)
	// a cut right after a half-open may take down the same connection
	if sum.Reconnects < 4 {
		t.Errorf("only %d reconnects for 6 faults", sum.Reconnects)
	}
	t.Logf("%d reconnects, %d samples %d..%d, none lost or duplicated", sum.Reconnects, len(vals), vals[0], vals[len(vals)-1])
}

func TestE2ECutLongerThanHistoryReportsExactRange(t *testing.T) {
	needE2E(t)
	link, _ := startSim(t, e2eRate)
	sp := startServe(t, link, "127.0.0.1:0", 300*time.Millisecond)
	px, err := faultproxy.New(strings.TrimPrefix(strings.TrimSuffix(sp.WS, "/ws"), "ws://"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { px.Close() })
	r := startSink(t, "ws://"+px.Addr()+"/ws", nil)
	rd := openLikeR(t, r.info.Name)
	got := make(chan []byte, 1)
	go func() { got <- readFor(rd, 2500*time.Millisecond) }()
	time.Sleep(500 * time.Millisecond)
	px.Refuse(true)
	px.Cut(faultproxy.CutRST)
	time.Sleep(1200 * time.Millisecond)
	px.Refuse(false)
	out := <-got
	sum := r.stop(t)
	checkHolesReported(t, counterValues(t, out, FormatCSV), sum, 1)
}

// checkOnlyDeviceLoss: the reader misses nothing but what the device
// itself dropped (a simulator starved by a loaded machine falls more than
// its max lag behind), and those are reported exactly as device gaps.
func checkOnlyDeviceLoss(t *testing.T, vals []int64, sum Summary) {
	t.Helper()
	lo, hi := uint32(vals[0]/e2eF), uint32(vals[len(vals)-1]/e2eF)
	var dev []GapRange
	for _, g := range sum.GapRanges {
		if g.To < lo || g.From > hi {
			continue
		}
		if g.Reason != wsproto.GapDevice {
			t.Errorf("gap %v inside what the reader read: only device losses are expected here", g)
		}
		dev = append(dev, g)
	}
	inRange := Summary{GapRanges: dev, DropRanges: clipRanges(sum.DropRanges, hi)}
	if h, rep := holes(t, vals), reportedHoles(inRange); fmt.Sprint(h) != fmt.Sprint(rep) {
		t.Errorf("reader missed samples %v; sink reported %v", h, rep)
	}
	if sum.Duplicates != 0 {
		t.Errorf("duplicates %d", sum.Duplicates)
	}
	if len(dev) > 0 {
		t.Logf("the simulator itself dropped frames (machine load): %v, reported exactly", dev)
	}
}

// checkHolesReported: what the reader misses is exactly what the sink
// reported (gaps and drops), and there are at least want of them.
func checkHolesReported(t *testing.T, vals []int64, sum Summary, want int) {
	t.Helper()
	h := holes(t, vals)
	// Only what the sink reported between the reader's first and last
	// sample: the reader stops before the sink does, and on a loaded
	// machine the sink may drop frames queued after that.
	rep := clipHoles(reportedHoles(sum), vals[0], vals[len(vals)-1])
	if fmt.Sprint(h) != fmt.Sprint(rep) || len(h) < want {
		t.Fatalf("reader missed samples %v; sink reported %v (gaps %v, drops %v); want %d", h, rep, sum.GapRanges, sum.DropRanges, want)
	}
	if sum.Duplicates != 0 {
		t.Errorf("duplicates %d", sum.Duplicates)
	}
	t.Logf("missing samples %v reported exactly (gaps %v, drops %v)", h, sum.GapRanges, sum.DropRanges)
}

func TestE2EServeRestartNoDuplicateExactGap(t *testing.T) {
	t.Parallel() // mostly waiting: overlaps with the other parallel tests
	needE2E(t)
	// 10 kHz: the pty's ~64 KiB fill in 0.6s, then the device drops what
	// is more than its max lag (1s) late, as a real one whose host vanished.
	link, _ := startSimLag(t, 10*e2eRate, time.Second)
	sp := startServe(t, link, "127.0.0.1:0", 10*time.Second)
	listen := strings.TrimSuffix(strings.TrimPrefix(sp.WS, "ws://"), "/ws")
	r := startSink(t, sp.WS, nil)
	rd := openLikeR(t, r.info.Name)
	got := make(chan []byte, 1)
	go func() { got <- readFor(rd, 5*time.Second) }()
	time.Sleep(500 * time.Millisecond)
	sp.Stop()
	time.Sleep(2500 * time.Millisecond) // the device keeps sending; nobody captures
	startServe(t, link, listen, 10*time.Second)
	out := <-got
	sum := r.stop(t)
	if sum.Restarts != 1 {
		t.Errorf("restarts %d, want 1: the second serve is a new epoch", sum.Restarts)
	}
	// Frames the first serve read but could not send before it stopped
	// are a serve_stopped gap (its stopping status names where its count
	// ended), reported like any other.
	checkHolesReported(t, counterValues(t, out, FormatCSV), sum, 1)
}

func TestE2ECommandReachesSimAndReplyReturns(t *testing.T) {
	needE2E(t)
	link, _ := startSim(t, e2eRate)
	sp := startServe(t, link, "127.0.0.1:0", 10*time.Second)
	r := startSink(t, sp.WS, func(o *Options) { o.RepliesToPort = true })
	rd := openLikeR(t, r.info.Name)
	readUntil(t, rd, 5*time.Second, lineCount(20))
	w, err := openWrite(r.info.Link)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	w.Write([]byte("rate 2000\n"))
	out := readUntil(t, rd, 5*time.Second, func(b []byte) bool { return bytes.Contains(b, []byte("# ok ")) })
	i := bytes.Index(out, []byte("# ok "))
	line := string(out[i : i+bytes.IndexByte(out[i:], '\n')])
	if !strings.Contains(line, "rate") || !strings.Contains(line, "2000") {
		t.Errorf("reply line %q does not confirm rate 2000", line)
	}
	deadline := time.Now().Add(3 * time.Second)
	for len(r.log.LogEntries("stream parameters changed")) == 0 && time.Now().Before(deadline) {
		readFor(rd, 50*time.Millisecond)
	}
	if l := r.log.LogEntries("stream parameters changed"); len(l) != 1 || l[0]["rate"] != float64(2000) {
		t.Errorf("want one 'stream parameters changed' to rate 2000, got %v", l)
	}
	sum := r.stop(t)
	if sum.Commands != 1 || sum.Replies != 1 || sum.Gaps != 0 {
		t.Errorf("summary %+v", sum)
	}
}

func TestE2ELateAndStallingReaderBoundedExactDrops(t *testing.T) {
	needE2E(t)
	link, _ := startSim(t, 10*e2eRate)
	sp := startServe(t, link, "127.0.0.1:0", 10*time.Second)
	var sk *Sink
	r := startSink(t, sp.WS, func(o *Options) {
		o.Buffer = 200 * time.Millisecond
		o.onSink = func(s *Sink) { sk = s }
	})
	maxQ := watchQueue(sk, time.Second, nil) // nobody reads for 1s
	rd := openLikeR(t, r.info.Name)
	out := readFor(rd, 500*time.Millisecond)
	maxQ2 := watchQueue(sk, time.Second, nil) // the reader stalls for 1s
	out = append(out, readFor(rd, time.Second)...)
	out = out[:bytes.LastIndexByte(out, '\n')+1]
	sum := r.stop(t)
	if q := max(maxQ, maxQ2); q > 200*time.Millisecond {
		t.Errorf("queue held %s, more than --buffer 200ms", q)
	}
	vals := counterValues(t, out, FormatCSV)
	// samples the reader did not get after its last line were dropped or
	// still queued at exit: compare only up to the last value read.
	sum.DropRanges = clipRanges(sum.DropRanges, uint32(vals[len(vals)-1]/e2eF))
	checkHolesReported(t, vals, sum, 2)
}

// clipRanges keeps the parts of rs up to seq last.
func clipRanges(rs []SeqRange, last uint32) []SeqRange {
	var out []SeqRange
	for _, r := range rs {
		if r.From > last {
			break
		}
		r.To = min(r.To, last)
		out = append(out, r)
	}
	return out
}

// TestE2EBlockLetsServeDecide: --when-full block with nobody reading the
// port: the sink drops nothing itself, stops reading the WebSocket, and
// serve's policy for a client that stops reading applies (its keepalive
// drops it, or it is skipped ahead). Whatever is lost that way is reported
// as gaps whose ranges are exactly what the reader misses.
func TestE2EBlockLetsServeDecide(t *testing.T) {
	t.Parallel() // mostly waiting: overlaps with the other parallel tests
	needE2E(t)
	link, _ := startSim(t, 10*e2eRate)
	sp := startServe(t, link, "127.0.0.1:0", 500*time.Millisecond)
	r := startSink(t, sp.WS, func(o *Options) { o.WhenFull, o.Buffer = Block, 100*time.Millisecond })
	time.Sleep(3500 * time.Millisecond) // R not started; serve pings every 1s
	rd := openLikeR(t, r.info.Name)
	out := readFor(rd, 2*time.Second)
	sum := r.stop(t)
	vals := counterValues(t, out, FormatCSV)
	sum.DropRanges = clipRanges(sum.DropRanges, uint32(vals[len(vals)-1]/e2eF)) // exit only
	if len(sum.DropRanges) != 0 {
		t.Errorf("block dropped %v in the sink", sum.DropRanges)
	}
	checkHolesReported(t, vals, sum, 0) // usually 1: serve dropped or skipped the silent sink
	t.Logf("reconnects %d, gaps %v", sum.Reconnects, sum.GapRanges)
}
