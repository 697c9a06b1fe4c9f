//go:build linux

package main

// The scale runs of issue 15: wsbridge alone, with many channels or many
// clients. serve runs in its own process (the wsbridge binary, or this
// bench in -relayd mode for a CPU profile); the load generator (the
// simulated boards writing into ptys, and the clients) runs in this
// process, so that serve's CPU time (schedstat) and memory are counted
// apart from it, though both share the machine's cores.
//
//	go run ./bench --scale channels   # 50 channels at 16 kHz i16, one binary client each
//	go run ./bench --scale idle       # what a channel without data costs
//	go run ./bench --scale envelope   # 1000 page clients on one 48 kHz channel, ?envelope=64
//
// Each prints a Markdown table of its figures with the load average
// before and after, for docs/benchmarks.md.

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/coder/websocket"

	"github.com/wsbridge/wsbridge/bench/internal/benchenv"
	"github.com/wsbridge/wsbridge/internal/frame"
	"github.com/wsbridge/wsbridge/internal/vport"
)

type scaleConfig struct {
	what       string
	channels   int
	rate       uint32
	frame      int // sample instants per frame: 10 ms, as the simulator sends
	clients    int
	envelope   int
	dur, warm  time.Duration
	history    time.Duration
	wsbridge   string // a prebuilt binary; "" builds ./cmd/wsbridge
	baseline   string // another binary, run before the tree's in the same command (--baseline)
	reps       int    // runs of each binary, alternating (--reps; default 1)
	profileDir string // run serve as -relayd with a CPU and heap profile here
}

func scaleFlags(fs *flag.FlagSet, c *scaleConfig) {
	fs.StringVar(&c.what, "scale", "", "run a scale benchmark instead of the peers: channels, idle or envelope (issue 15; see bench/scale.go)")
	fs.IntVar(&c.channels, "scale-channels", 0, "channels (default 50; envelope: 1)")
	fs.IntVar(&c.clients, "scale-clients", 0, "envelope clients (default 1000)")
	fs.IntVar(&c.envelope, "scale-envelope", 64, "the envelope clients' ?envelope=N")
	fs.DurationVar(&c.dur, "scale-dur", 10*time.Second, "measured time")
	fs.DurationVar(&c.warm, "scale-warm", 3*time.Second, "streaming before the measurement starts")
	fs.StringVar(&c.profileDir, "scale-profile", "", "write serve's CPU and heap profiles into this directory (serve runs as -relayd)")
}

// scaleResult is what one run measured.
type scaleResult struct {
	rows    [][2]string // figure, value
	loadAvg [2]string   // 1-minute load average at the start and the end
	errs    []string
}

func (r *scaleResult) add(name, format string, a ...any) {
	r.rows = append(r.rows, [2]string{name, fmt.Sprintf(format, a...)})
}

func (r *scaleResult) print(w io.Writer, c *scaleConfig, command string) {
	fmt.Fprintf(w, "\n%s, %s, load average %s at the start, %s at the end:\n\n", command,
		time.Now().UTC().Format("2006-01-02 15:04 UTC"), r.loadAvg[0], r.loadAvg[1])
	fmt.Fprintln(w, "| figure | value |\n|---|---|")
	for _, row := range r.rows {
		fmt.Fprintf(w, "| %s | %s |\n", row[0], row[1])
	}
	for _, e := range r.errs {
		fmt.Fprintf(w, "\nerror: %s\n", e)
	}
}

func runScale(c *scaleConfig, command string) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	defer killAll()
	root, err := benchenv.RepoRoot()
	if err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "wsbridge-scale-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	e := &env{root: root, tmp: tmp}
	if e.self, err = os.Executable(); err != nil {
		return err
	}
	if c.profileDir == "" {
		if e.wsbridge, err = buildWSBridge(root, tmp, c.wsbridge); err != nil {
			return err
		}
	}
	// With --baseline, the two binaries run in turn (baseline first), each
	// --reps times, so that before and after share the machine's load.
	bins := []struct{ label, path string }{{"", e.wsbridge}}
	if c.baseline != "" {
		if c.profileDir != "" {
			return errors.New("--baseline and --scale-profile: profile one binary at a time")
		}
		b, err := filepath.Abs(c.baseline)
		if err != nil {
			return err
		}
		bins = []struct{ label, path string }{{"baseline " + c.baseline, b}, {"this tree", e.wsbridge}}
	}
	var errs []string
	for rep := range max(1, c.reps) {
		for _, bin := range bins {
			e.wsbridge = bin.path
			r, err := runScaleOnce(ctx, e, c)
			if err != nil {
				return err
			}
			label := command
			if bin.label != "" {
				label = fmt.Sprintf("%s (%s, run %d)", command, bin.label, rep+1)
			}
			r.print(os.Stdout, c, label)
			errs = append(errs, r.errs...)
			if ctx.Err() != nil {
				return ctx.Err()
			}
		}
	}
	if len(errs) > 0 {
		return errors.New(strings.Join(errs, "; "))
	}
	return nil
}

// runScaleOnce runs the scale benchmark c.what once, with e.wsbridge.
func runScaleOnce(ctx context.Context, e *env, c *scaleConfig) (*scaleResult, error) {
	switch c.what {
	case "channels":
		c.channels = cmp.Or(c.channels, 50)
		c.rate, c.frame = 16000, 160
		return scaleChannels(ctx, e, c), nil
	case "idle":
		c.channels = cmp.Or(c.channels, 50)
		return scaleIdle(ctx, e, c), nil
	case "envelope":
		c.channels, c.clients = 1, cmp.Or(c.clients, 1000)
		c.rate, c.frame, c.history = 48000, 480, 5*time.Second
		return scaleEnvelope(ctx, e, c), nil
	}
	return nil, fmt.Errorf("--scale %q: want channels, idle or envelope", c.what)
}

// board is one simulated device: a pty and the counter stream written into it.
type board struct {
	name string
	port *vport.Port
	s    *stream
	buf  []byte
	sent atomic.Uint32 // frames written
}

func newBoards(n int, rate uint32, frameSamples int) ([]*board, error) {
	bs := make([]*board, n)
	for i := range bs {
		p, err := vport.Create("")
		if err != nil {
			closeBoards(bs)
			return nil, err
		}
		bs[i] = &board{name: fmt.Sprintf("ch%02d", i), port: p, s: newStream(rate, frameSamples)}
	}
	return bs, nil
}

func closeBoards(bs []*board) {
	for _, b := range bs {
		if b != nil {
			b.port.Close()
		}
	}
}

// writeBoards writes one frame to every board each frame period until ctx
// ends (one goroutine: a tick writes the due frames of all boards).
func writeBoards(ctx context.Context, bs []*board, rate uint32, frameSamples int) error {
	ck := newClock()
	for _, b := range bs {
		if _, err := b.port.Write(b.s.info(nil)); err != nil {
			return err
		}
	}
	period := time.Duration(frameSamples) * time.Second / time.Duration(rate)
	t0 := time.Now()
	for k := 0; ; k++ {
		if wait := time.Until(t0.Add(time.Duration(k) * period)); wait > 0 {
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(wait):
			}
		} else if ctx.Err() != nil {
			return nil
		}
		for _, b := range bs {
			b.buf = b.s.next(b.buf[:0], ck.us())
			_ = b.port.SetWriteDeadline(time.Now().Add(2 * time.Second))
			if _, err := b.port.Write(b.buf); err != nil {
				return fmt.Errorf("board %s, frame %d: %w", b.name, b.s.seq-1, err)
			}
			b.sent.Add(1)
		}
	}
}

// scaleServe is serve as its own process, on a free port, reading n
// counter boards (ptys) as channels named after them; stream makes the
// boards write.
type scaleServe struct {
	bs          []*board
	port        int
	p           *proc
	rate        uint32
	frame       int
	stopWriting context.CancelFunc
	werr        chan error // the writers' result
}

// startScaleServe creates n boards of rate and frame samples, and starts
// serve on them; it returns once serve listens. close stops it all.
func startScaleServe(ctx context.Context, e *env, c *scaleConfig, n int, rate uint32, frame int) (*scaleServe, error) {
	bs, err := newBoards(n, rate, frame)
	if err != nil {
		return nil, err
	}
	sv := &scaleServe{bs: bs, rate: rate, frame: frame, stopWriting: func() {}}
	if sv.port, err = benchenv.FreePort(); err == nil {
		sv.p, err = startServe(e, c, bs, sv.port)
	}
	if err == nil {
		err = waitListening(ctx, sv.p, sv.port, 30*time.Second)
	}
	if err != nil {
		sv.close()
		return nil, err
	}
	return sv, nil
}

// startStreaming starts serve on n boards streaming at c's rate and
// frame size, and waits until every channel is up.
func startStreaming(ctx context.Context, e *env, c *scaleConfig, n int) (*scaleServe, error) {
	sv, err := startScaleServe(ctx, e, c, n, c.rate, c.frame)
	if err != nil {
		return nil, err
	}
	if err := sv.stream(ctx); err != nil {
		sv.close()
		return nil, err
	}
	return sv, nil
}

// stream starts the boards' writers and waits until every channel is up.
func (sv *scaleServe) stream(ctx context.Context) error {
	wctx, stop := context.WithCancel(ctx)
	sv.stopWriting, sv.werr = stop, make(chan error, 1)
	go func() { sv.werr <- writeBoards(wctx, sv.bs, sv.rate, sv.frame) }()
	return waitChannelsUp(sv.port, 20*time.Second)
}

// stopStreaming has serve write its heap profile first (with
// c.profileDir), then ends the writers and returns their error.
func (sv *scaleServe) stopStreaming(c *scaleConfig) error {
	if c.profileDir != "" {
		_ = syscall.Kill(sv.p.pid(), syscall.SIGUSR1) // relayd writes the heap profile
		time.Sleep(300 * time.Millisecond)
	}
	sv.stopWriting()
	return <-sv.werr
}

// close stops the writers and serve and closes the boards.
func (sv *scaleServe) close() {
	sv.stopWriting()
	if sv.p != nil {
		sv.p.Stop()
	}
	closeBoards(sv.bs)
}

// startServe runs serve for the boards' ptys as channels named after them.
func startServe(e *env, c *scaleConfig, bs []*board, port int) (*proc, error) {
	hist := "30s"
	if c.history > 0 {
		hist = c.history.String()
	}
	maxClients := strconv.Itoa(max(256, c.clients+16))
	var devs []string
	for _, b := range bs {
		devs = append(devs, "--device", b.name+"="+b.port.Name()+",input=frames")
	}
	if c.profileDir != "" {
		argv := []string{e.self, "-relayd", "-relayd-listen", addr(port), "-relayd-max-clients", maxClients, "-relayd-history", hist,
			"-relayd-cpuprofile", filepath.Join(c.profileDir, "cpu-"+c.what+".pprof"),
			"-relayd-heapprofile", filepath.Join(c.profileDir, "heap-"+c.what+".pprof")}
		for i := 1; i < len(devs); i += 2 {
			argv = append(argv, "-relayd-device", devs[i])
		}
		return startProc("wsbridge", e.tmp, nil, argv...)
	}
	argv := append([]string{e.wsbridge, "serve", "--listen", addr(port), "--max-clients", maxClients,
		"--history", hist, "--log-level", "warn"}, devs...)
	return startProc("wsbridge", e.tmp, nil, argv...)
}

// metricSum sums a per-channel metric of serve's /metrics.
func metricSum(port int, name string) (float64, error) {
	resp, err := http.Get("http://" + addr(port) + "/metrics")
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, err
	}
	sum := 0.0
	for _, l := range strings.Split(string(b), "\n") {
		if !strings.HasPrefix(l, "wsbridge_"+name+"{") && !strings.HasPrefix(l, "wsbridge_"+name+" ") {
			continue
		}
		f := strings.Fields(l)
		v, _ := strconv.ParseFloat(f[len(f)-1], 64)
		sum += v
	}
	return sum, nil
}

// waitChannelsUp waits until /healthz says every channel is up.
func waitChannelsUp(port int, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	var last string
	for time.Now().Before(deadline) {
		resp, err := http.Get("http://" + addr(port) + "/healthz")
		if err == nil {
			var h struct {
				DeviceState string   `json:"device_state"`
				Down        []string `json:"down"`
			}
			_ = json.NewDecoder(resp.Body).Decode(&h)
			resp.Body.Close()
			if h.DeviceState == "up" {
				return nil
			}
			last = fmt.Sprint(h.Down)
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("channels still down after %v: %s", limit, last)
}

// frameClient is one binary full-rate client of one channel: it checks
// that frames come in order with the counter's samples.
type frameClient struct {
	conn              *websocket.Conn
	frames, missing   atomic.Uint64
	bad, gapMsgs      atomic.Uint64
	next              uint32
	started           bool
	frameSamples      int
	err               error
	done              chan struct{}
	envelopes, points atomic.Uint64 // envelope clients
}

func dialClient(ctx context.Context, url string) (*websocket.Conn, error) {
	dctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	conn, _, err := websocket.Dial(dctx, url, nil)
	if err != nil {
		return nil, err
	}
	conn.SetReadLimit(1 << 20)
	if _, b, err := conn.Read(dctx); err != nil || !strings.Contains(string(b), `"type":"hello"`) {
		conn.CloseNow()
		return nil, fmt.Errorf("no hello from %s: %v", url, err)
	}
	return conn, nil
}

// read runs until the connection ends, with one function for each
// binary message and one for each text message.
func (fc *frameClient) read(onBinary func([]byte), onText func([]byte)) {
	defer close(fc.done)
	buf := make([]byte, 0, 4096)
	for {
		typ, r, err := fc.conn.Reader(context.Background())
		if err != nil {
			fc.err = err
			return
		}
		buf = buf[:0]
		for {
			if len(buf) == cap(buf) {
				buf = append(buf, 0)[:len(buf)]
			}
			n, err := r.Read(buf[len(buf):cap(buf)])
			buf = buf[:len(buf)+n]
			if err == io.EOF {
				break
			}
			if err != nil {
				fc.err = err
				return
			}
		}
		if typ == websocket.MessageBinary {
			onBinary(buf)
		} else {
			onText(buf)
		}
	}
}

// frame checks one data frame: seq in order and the counter's samples
// (first and last of the frame).
func (fc *frameClient) frame(b []byte) {
	var p frame.Packet
	if err := frame.Parse(&p, b); err != nil || p.Type != frame.TypeData {
		fc.bad.Add(1)
		return
	}
	f := &p.Frame
	if fc.started && f.Seq != fc.next {
		fc.missing.Add(uint64(f.Seq - fc.next))
	}
	fc.started, fc.next = true, f.Seq+1
	i0 := int64(f.Seq) * int64(f.Count)
	if f.Count > 0 && (f.Int(0, 0) != int64(int16(i0)) || f.Int(int(f.Count)-1, 0) != int64(int16(i0+int64(f.Count)-1))) {
		fc.bad.Add(1)
	}
	fc.frames.Add(1)
}

// envelope checks one envelope: it starts where the last one ended.
func (fc *frameClient) envelope(b []byte) {
	var e frame.Envelope
	if err := frame.ParseEnvelope(&e, b); err != nil {
		fc.bad.Add(1)
		return
	}
	if fc.started && e.Seq != fc.next {
		fc.missing.Add(uint64(e.Seq - fc.next))
	}
	fc.started, fc.next = true, e.LastSeq+1
	fc.frames.Add(e.Frames())
	fc.envelopes.Add(1)
	fc.points.Add(uint64(e.Points))
}

func (fc *frameClient) text(b []byte) {
	if strings.Contains(string(b), `"type":"gap"`) {
		fc.gapMsgs.Add(1)
		var g struct{ To uint32 }
		if json.Unmarshal(b, &g) == nil {
			fc.next = g.To + 1
		}
	}
}

func scaleChannels(ctx context.Context, e *env, c *scaleConfig) *scaleResult {
	r := &scaleResult{loadAvg: [2]string{benchenv.LoadAvg(), ""}}
	defer func() { r.loadAvg[1] = benchenv.LoadAvg() }()
	fail := func(err error) *scaleResult { r.errs = append(r.errs, err.Error()); return r }
	sv, err := startStreaming(ctx, e, c, c.channels)
	if err != nil {
		return fail(err)
	}
	defer sv.close()
	bs, port, p := sv.bs, sv.port, sv.p
	clients := make([]*frameClient, len(bs))
	for i, b := range bs {
		conn, err := dialClient(ctx, fmt.Sprintf("ws://%s/ws/%s", addr(port), b.name))
		if err != nil {
			return fail(err)
		}
		fc := &frameClient{conn: conn, frameSamples: c.frame, done: make(chan struct{})}
		clients[i] = fc
		go fc.read(fc.frame, fc.text)
	}
	defer closeClients(clients)
	time.Sleep(c.warm)
	u0, err := groupUsage(p.pid())
	if err != nil {
		return fail(err)
	}
	sent0, got0 := sentTotal(bs), gotTotal(clients)
	t0 := time.Now()
	time.Sleep(c.dur)
	u1, err := groupUsage(p.pid())
	if err != nil {
		return fail(fmt.Errorf("serve died: %s", p.tail()))
	}
	el := time.Since(t0).Seconds()
	sent1, got1 := sentTotal(bs), gotTotal(clients)
	hist, _ := metricSum(port, "history_bytes")
	if err := sv.stopStreaming(c); err != nil {
		r.errs = append(r.errs, err.Error())
	}
	lost, bad, gaps := drainClients(clients, bs)
	rss := float64(u1.rss) / 1024
	r.add("channels x clients", "%d x 1 (binary, full rate)", c.channels)
	r.add("stream per channel", "%d Hz i16 mono, %d-sample frames (%d frames/s)", c.rate, c.frame, int(c.rate)/c.frame)
	r.add("measured", "%.1f s after %v of streaming", el, c.warm)
	r.add("serve CPU (schedstat, all threads)", "**%.1f %% of one core** (%.2f CPU-s)", 100*(u1.cpu-u0.cpu)/el, u1.cpu-u0.cpu)
	r.add("serve CPU per frame delivered", "%.1f µs", 1e6*(u1.cpu-u0.cpu)/float64(max(1, got1-got0)))
	r.add("serve context switches per frame", "%.2f", float64(u1.ctxsw-u0.ctxsw)/float64(max(1, sent1-sent0)))
	r.add("frames written / delivered in the window", "%d / %d", sent1-sent0, got1-got0)
	r.add("samples lost (all clients, whole run)", "**%d** of %d (gap messages: %d, bad frames: %d)", lost*uint64(c.frame), gotTotal(clients)*uint64(c.frame), gaps, bad)
	r.add("serve RSS at the end / peak", "%.1f / %.1f MiB", rss, float64(u1.hwm)/1024)
	r.add("histories held (history_bytes, all channels)", "%.1f MiB", hist/(1<<20))
	r.add("RSS minus the histories", "**%.1f MiB**", rss-hist/(1<<20))
	return r
}

// closeClients drops the clients' connections.
func closeClients(cs []*frameClient) {
	for _, fc := range cs {
		fc.conn.CloseNow()
	}
}

func sentTotal(bs []*board) uint64 {
	var n uint64
	for _, b := range bs {
		n += uint64(b.sent.Load())
	}
	return n
}

func gotTotal(cs []*frameClient) uint64 {
	var n uint64
	for _, c := range cs {
		n += c.frames.Load()
	}
	return n
}

// drainClients waits until every client has every frame its board sent
// (or 5 s), then sums what is missing: frames jumped over, frames never
// received after the last, frames that failed the check, gap messages.
func drainClients(cs []*frameClient, bs []*board) (lost, bad, gaps uint64) {
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		all := true
		for i, fc := range cs {
			if fc.frames.Load()+fc.missing.Load() < uint64(bs[i%len(bs)].sent.Load())-uint64(fc.firstSeq()) {
				all = false
			}
		}
		if all {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	for i, fc := range cs {
		fc.conn.CloseNow()
		<-fc.done
		want := uint64(bs[i%len(bs)].sent.Load()) - uint64(fc.firstSeq())
		got := fc.frames.Load() + fc.missing.Load()
		lost += fc.missing.Load()
		if got < want {
			lost += want - got
		}
		bad += fc.bad.Load()
		gaps += fc.gapMsgs.Load()
	}
	return lost, bad, gaps
}

// firstSeq is the seq of the first frame the client got (it connected
// while its board was streaming).
func (fc *frameClient) firstSeq() uint32 {
	return fc.next - uint32(fc.frames.Load()+fc.missing.Load())
}

// scaleIdle measures what channels without data cost: serve's RSS and CPU
// with one channel, then with 1 + N, both idle (their ptys open, nothing
// written).
func scaleIdle(ctx context.Context, e *env, c *scaleConfig) *scaleResult {
	r := &scaleResult{loadAvg: [2]string{benchenv.LoadAvg(), ""}}
	defer func() { r.loadAvg[1] = benchenv.LoadAvg() }()
	measure := func(n int) (usage, float64, error) {
		sv, err := startScaleServe(ctx, e, c, n, 16000, 160)
		if err != nil {
			return usage{}, 0, err
		}
		defer sv.close()
		p := sv.p
		time.Sleep(2 * time.Second) // every device opened, nothing arriving
		u0, err := groupUsage(p.pid())
		if err != nil {
			return usage{}, 0, err
		}
		time.Sleep(c.dur)
		u1, err := groupUsage(p.pid())
		return u1, 100 * (u1.cpu - u0.cpu) / c.dur.Seconds(), err
	}
	one, cpu1, err := measure(1)
	if err != nil {
		r.errs = append(r.errs, err.Error())
		return r
	}
	many, cpuN, err := measure(1 + c.channels)
	if err != nil {
		r.errs = append(r.errs, err.Error())
		return r
	}
	r.add("serve with 1 idle channel: RSS, CPU", "%.1f MiB, %.2f %% of one core", float64(one.rss)/1024, cpu1)
	r.add(fmt.Sprintf("serve with %d idle channels: RSS, CPU", 1+c.channels), "%.1f MiB, %.2f %% of one core", float64(many.rss)/1024, cpuN)
	r.add("per idle channel", "**%.0f kB** of RSS, %.3f %% of one core", float64(many.rss-one.rss)*1.024/float64(c.channels), (cpuN-cpu1)/float64(c.channels))
	return r
}

// scaleEnvelope runs one 48 kHz channel with 1000 page clients on
// ?envelope=N: serve's CPU and the RSS each client adds.
func scaleEnvelope(ctx context.Context, e *env, c *scaleConfig) *scaleResult {
	r := &scaleResult{loadAvg: [2]string{benchenv.LoadAvg(), ""}}
	defer func() { r.loadAvg[1] = benchenv.LoadAvg() }()
	fail := func(err error) *scaleResult { r.errs = append(r.errs, err.Error()); return r }
	sv, err := startStreaming(ctx, e, c, 1)
	if err != nil {
		return fail(err)
	}
	defer sv.close()
	bs, port, p := sv.bs, sv.port, sv.p
	// The history fills for c.history, then serve's memory is steady:
	// what it holds without clients.
	time.Sleep(c.history + time.Second)
	u0, err := groupUsage(p.pid())
	if err != nil {
		return fail(err)
	}
	idle := 100 * 0.0
	{
		time.Sleep(2 * time.Second)
		u, err := groupUsage(p.pid())
		if err != nil {
			return fail(err)
		}
		idle = 100 * (u.cpu - u0.cpu) / 2
		u0 = u
	}
	hist0, _ := metricSum(port, "history_bytes")
	url := fmt.Sprintf("ws://%s/ws/%s?envelope=%d", addr(port), bs[0].name, c.envelope)
	clients := make([]*frameClient, c.clients)
	var wg sync.WaitGroup
	sem := make(chan struct{}, 32)
	errs := make(chan error, c.clients)
	tc := time.Now()
	for i := range clients {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			conn, err := dialClient(ctx, url)
			if err != nil {
				errs <- err
				return
			}
			fc := &frameClient{conn: conn, done: make(chan struct{})}
			clients[i] = fc
			go fc.read(fc.envelope, fc.text)
		}()
	}
	wg.Wait()
	connectTime := time.Since(tc)
	close(errs)
	for err := range errs {
		return fail(err)
	}
	defer closeClients(clients)
	time.Sleep(c.warm)
	u1, err := groupUsage(p.pid())
	if err != nil {
		return fail(err)
	}
	env0, comp0, _ := envTotals(clients, port)
	t0 := time.Now()
	time.Sleep(c.dur)
	u2, err := groupUsage(p.pid())
	if err != nil {
		return fail(fmt.Errorf("serve died: %s", p.tail()))
	}
	el := time.Since(t0).Seconds()
	env1, comp1, sentMsgs := envTotals(clients, port)
	hist1, _ := metricSum(port, "history_bytes")
	if err := sv.stopStreaming(c); err != nil {
		r.errs = append(r.errs, err.Error())
	}
	lost, bad, gaps := drainClients(clients, bs)
	perClient := (float64(u2.rss-u0.rss)*1024 - (hist1 - hist0)) / float64(c.clients) / 1000
	r.add("clients", "%d on one channel, `?envelope=%d` (binary), connected in %.1f s", c.clients, c.envelope, connectTime.Seconds())
	r.add("stream", "%d Hz i16 mono, %d-sample frames, `--history %v`", c.rate, c.frame, c.history)
	r.add("measured", "%.1f s, %v after the last client connected", el, c.warm)
	r.add("serve CPU before the clients (the channel alone)", "%.1f %% of one core", idle)
	r.add("serve CPU with the clients (schedstat)", "**%.1f %% of one core** (%.2f CPU-s)", 100*(u2.cpu-u1.cpu)/el, u2.cpu-u1.cpu)
	r.add("envelopes per client per second", "%.1f (%d messages in the window)", float64(env1-env0)/float64(c.clients)/el, env1-env0)
	r.add("serve CPU per envelope delivered", "%.1f µs", 1e6*(u2.cpu-u1.cpu)/float64(max(1, env1-env0)))
	r.add("envelopes computed in the window (all clients)", "%d, for %d batches (`envelope_computations_total`)", comp1-comp0, comp1-comp0)
	r.add("serve RSS without clients / with them (peak)", "%.1f / %.1f MiB (%.1f)", float64(u0.rss)/1024, float64(u2.rss)/1024, float64(u2.hwm)/1024)
	r.add("RSS per client (the difference, less the history's change)", "**%.1f kB**", perClient)
	r.add("frames not covered by an envelope (all clients)", "**%d** (gap messages %d, bad envelopes %d); messages sent by serve: %d", lost, gaps, bad, sentMsgs)
	return r
}

// envTotals sums the envelopes the clients received, and reads serve's
// computation and message counters.
func envTotals(cs []*frameClient, port int) (envs, computed, sent uint64) {
	for _, fc := range cs {
		envs += fc.envelopes.Load()
	}
	v, _ := metricSum(port, "envelope_computations_total")
	m, _ := metricSum(port, "messages_sent_total")
	return envs, uint64(v), uint64(m)
}
