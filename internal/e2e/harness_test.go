package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/wsbridge/wsbridge/internal/adcsim"
	"github.com/wsbridge/wsbridge/internal/frame"
	"github.com/wsbridge/wsbridge/internal/serve"
	"github.com/wsbridge/wsbridge/internal/sink"
	"github.com/wsbridge/wsbridge/internal/testsupport"
	"github.com/wsbridge/wsbridge/internal/vport"
)

// logLimit caps every log buffer (0: no cap). The soak sets it, so that the
// test's own log collection does not look like a leak.
var logLimit int

// newLogBuf collects JSON log lines, capped at logLimit.
func newLogBuf() *testsupport.SyncBuffer { return &testsupport.SyncBuffer{Limit: logLimit} }

// newLog returns a JSON logger into buf (if not nil), also to stderr when
// E2E_LOG is set.
func newLog(buf io.Writer, part string) zerolog.Logger {
	var ws []io.Writer
	if buf != nil {
		ws = append(ws, buf)
	}
	if os.Getenv("E2E_LOG") != "" {
		ws = append(ws, zerolog.ConsoleWriter{Out: os.Stderr})
	}
	if len(ws) == 0 {
		return zerolog.Nop()
	}
	return zerolog.New(zerolog.MultiLevelWriter(ws...)).With().Timestamp().Str("part", part).Logger()
}

// counterConfig is the simulator stream the suite uses: the counter signal
// in i32, so that every sample names its own index exactly.
func counterConfig(rate uint32, chans, frameSamples int) adcsim.Config {
	c := adcsim.DefaultConfig()
	c.Signal, c.Rate, c.Channels, c.SampleType, c.FrameSamples, c.Seed = "counter", rate, chans, "i32", frameSamples, 1
	c.MaxLag = 5 * time.Second
	return c
}

// simRig is a simulated ESP32 on a real pty with a stable link, the way
// `wsbridge sim` runs it, but keeping the Device so tests can read its
// exact Stats. After each simulated unplug the pty is gone for pause, then
// a new one appears at the same link, optionally preceded by boot garbage
// (ROM-log noise, then the 0x00 every sender emits to resynchronise).
type simRig struct {
	dev      *adcsim.Device
	link     string
	log      *testsupport.SyncBuffer
	garbage  atomic.Uint64 // garbage bytes written after replugs
	attaches atomic.Int64
	settle   time.Duration // see wirePort
	wire     *wireLog
	cancel   context.CancelFunc
	done     chan error
}

func startSim(t testing.TB, cfg adcsim.Config, pause time.Duration, garbage int) *simRig {
	return startSimSettled(t, cfg, pause, garbage, 0)
}

func startSimSettled(t testing.TB, cfg adcsim.Config, pause time.Duration, garbage int, settle time.Duration) *simRig {
	t.Helper()
	r := &simRig{link: filepath.Join(t.TempDir(), "ttyESP"), log: newLogBuf(), done: make(chan error, 1), settle: settle,
		wire: newWireLog()}
	cfg.Log = newLog(r.log, "sim")
	dev, err := adcsim.NewDevice(cfg)
	if err != nil {
		t.Fatal(err)
	}
	r.dev = dev
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	go func() { r.done <- r.loop(ctx, pause, garbage) }()
	t.Cleanup(r.stop)
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		if _, err := os.Stat(r.link); err == nil {
			return r
		}
		if time.Now().After(deadline) {
			t.Fatal("simulator pty did not appear within 5 s")
		}
	}
}

func (r *simRig) loop(ctx context.Context, pause time.Duration, garbage int) error {
	rng := rand.New(rand.NewPCG(7, 7))
	for i := 0; ctx.Err() == nil; i++ {
		p, err := vport.Create(r.link)
		if err != nil {
			return err
		}
		if i > 0 && garbage > 0 {
			if _, err := p.Write(bootGarbage(rng, garbage)); err != nil {
				p.Close()
				return err
			}
			r.garbage.Add(uint64(garbage))
		}
		r.attaches.Add(1)
		err = r.dev.Run(ctx, &wirePort{Port: p, quiet: r.settle, wire: r.wire})
		p.Close()
		if !errors.Is(err, adcsim.ErrUnplugged) {
			return err
		}
		select {
		case <-ctx.Done():
		case <-time.After(pause):
		}
	}
	return nil
}

// bootGarbage is n bytes of what an ESP32 ROM log looks like at the wrong
// baud (no 0x00, mostly high-bit bytes) followed by one 0x00.
func bootGarbage(rng *rand.Rand, n int) []byte {
	b := make([]byte, n+1)
	for i := 0; i < n; i++ {
		b[i] = byte(1 + rng.IntN(255))
	}
	return b
}

// wirePort is the simulator's vport.Port with two additions for tests.
// It decodes every byte the device actually wrote to the pty (wireLog), the
// ground truth of which frames left the device intact. And with quiet > 0
// its Buffered also counts bytes written in the last quiet period as
// unread: the kernel moves bytes written to a pty master into the slave's
// line discipline asynchronously (the tty flip buffer), so TIOCINQ can read
// 0 while the last write is still in flight, and the simulator's unplug,
// which waits for Buffered to read 0, would close the pty on them.
type wirePort struct {
	*vport.Port
	quiet time.Duration
	wire  *wireLog
	last  atomic.Int64 // UnixNano of the last write
}

func (p *wirePort) Write(b []byte) (int, error) {
	n, err := p.Port.Write(b)
	p.wire.write(b[:n])
	p.last.Store(time.Now().UnixNano())
	return n, err
}

func (p *wirePort) Buffered() (int, error) {
	n, err := p.Port.Buffered()
	if err == nil && n == 0 && time.Since(time.Unix(0, p.last.Load())) < p.quiet {
		n = 1
	}
	return n, err
}

// wireLog decodes the device's output as written: the seqs of the data
// frames that left the device intact. Safe for concurrent use.
type wireLog struct {
	mu   sync.Mutex
	dec  *frame.Decoder
	seqs spans
}

func newWireLog() *wireLog {
	w := &wireLog{}
	w.dec = frame.NewDecoder(func(p *frame.Packet) {
		if p.Type == frame.TypeData {
			w.seqs.add(span{int64(p.Frame.Seq), int64(p.Frame.Seq)})
		}
	})
	return w
}

func (w *wireLog) write(b []byte) {
	w.mu.Lock()
	w.dec.Write(b)
	w.mu.Unlock()
}

// sent returns the seqs of the intact frames written so far.
func (w *wireLog) sent() spans {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append(spans(nil), w.seqs...)
}

func (r *simRig) stop() {
	r.cancel()
	select {
	case <-r.done:
	case <-time.After(5 * time.Second):
	}
}

// lostSeqs returns the seqs the device generated but never wrote in full:
// those generated while unplugged, those cut short by an unplug during a
// blocked write, and those dropped for lag, from its log.
func (r *simRig) lostSeqs() spans {
	var out spans
	for _, msg := range []string{"re-attached", "unplug during a write", "cut short when the port was last closed", "dropped frames"} {
		for _, e := range r.log.LogEntries(msg) {
			from, ok := e["from"].(float64)
			to, _ := e["to"].(float64)
			if ok {
				out = union(out, spans{{int64(from), int64(to)}})
			}
		}
	}
	return out
}

// serveRig is serve.Run in this process on 127.0.0.1:0 (or, with srv
// nil, a serve binary's URLs).
type serveRig struct {
	base, ws string
	log      *testsupport.SyncBuffer
	token    string
	srv      *testsupport.Served
}

// serveOptions are serve's defaults reading the simulator's pty at link.
func serveOptions(link string) serve.Options {
	o := serve.DefaultOptions()
	o.Capture.Port, o.Capture.Input = link, "frames"
	return o
}

func startServe(t testing.TB, o serve.Options) *serveRig {
	t.Helper()
	r := &serveRig{log: newLogBuf(), token: o.Relay.Token}
	o.Relay.Listen, o.Log = "127.0.0.1:0", newLog(r.log, "serve")
	r.srv = testsupport.StartServe(t, func(ctx context.Context, out io.Writer) error {
		o.Out = out
		return serve.Run(ctx, o)
	})
	r.base, r.ws = r.srv.URL, r.srv.WS
	return r
}

// serveURLs reads the stream and page URLs from serve's listening line,
// "wsbridge serve: page http://127.0.0.1:N/ stream ws://127.0.0.1:N/ws".
func serveURLs(line string) (ws, base string, ok bool) {
	f := strings.Fields(line)
	if len(f) < 2 || !strings.HasPrefix(f[len(f)-1], "ws://") {
		return "", "", false
	}
	ws = f[len(f)-1]
	return ws, "http" + strings.TrimSuffix(strings.TrimPrefix(ws, "ws"), "/ws"), true
}

// stop cancels serve and returns Run's error (once).
func (r *serveRig) stop() error { return r.srv.Stop() }

// running fails the test if serve.Run has returned.
func (r *serveRig) running(t testing.TB) {
	t.Helper()
	if exited, err := r.srv.Exited(); exited {
		t.Fatalf("serve exited: %v", err)
	}
}

// get fetches a path with the rig's token and returns status and body.
func (r *serveRig) get(t testing.TB, path string) (int, []byte) {
	t.Helper()
	var h http.Header
	if r.token != "" {
		h = bearer(r.token)
	}
	return httpGet(t, r.base+path, h)
}

// httpGet fetches url with the header h (may be nil) and returns status
// and body.
func httpGet(t testing.TB, url string, h http.Header) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range h {
		req.Header[k] = v
	}
	resp, err := (&http.Client{Timeout: 5 * time.Second}).Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

func bearer(token string) http.Header {
	return http.Header{"Authorization": {"Bearer " + token}}
}

// metrics parses /metrics into name -> value (without the wsbridge_
// prefix; labelled samples also summed under the bare name).
func (r *serveRig) metrics(t testing.TB) map[string]float64 {
	t.Helper()
	code, b := r.get(t, "/metrics")
	if code != http.StatusOK {
		t.Fatalf("/metrics: HTTP %d %s", code, b)
	}
	m := map[string]float64{}
	for name, v := range testsupport.ParseMetrics(string(b)) {
		m[strings.TrimPrefix(name, "wsbridge_")] = v
	}
	return m
}

// nextSeq is the seq serve will give its next frame (from /healthz).
func (r *serveRig) nextSeq(t testing.TB) int64 {
	t.Helper()
	_, b := r.get(t, "/healthz")
	var h struct{ Seq uint32 }
	if err := jsonUnmarshal(b, &h); err != nil {
		t.Fatalf("/healthz: %v", err)
	}
	return int64(h.Seq)
}

// waitMetric polls /metrics until name reaches want (at most d) and
// returns the last metrics read.
func (r *serveRig) waitMetric(t testing.TB, name string, want float64, d time.Duration) map[string]float64 {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		m := r.metrics(t)
		if m[name] >= want || time.Now().After(deadline) {
			return m
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// waitFrames waits until serve has published at least n frames.
func (r *serveRig) waitFrames(t testing.TB, n float64, d time.Duration) {
	t.Helper()
	if m := r.waitMetric(t, "frames_received_total", n, d); m["frames_received_total"] < n {
		t.Fatalf("serve published fewer than %v frames in %v", n, d)
	}
}

// sinkRig is sink.Run in this process writing csv into a virtual serial
// port, with a ptyReader on the other end from the moment the port exists
// (none when R reads the port instead).
type sinkRig struct {
	link   string     // the port's stable name
	reader *ptyReader // nil: R reads
	out    *testsupport.SyncBuffer
	log    *testsupport.SyncBuffer
	cancel context.CancelFunc
	done   chan error
}

// startSink runs a sink with o into a virtual port, read by a ptyReader
// that checks the counter with chk, or by nobody in this process if chk
// is nil (R reads it: see link).
func startSink(t testing.TB, o sink.Options, chk *counterCheck) *sinkRig {
	t.Helper()
	r := &sinkRig{out: newLogBuf(), log: newLogBuf(), done: make(chan error, 1)}
	o.Virtual, o.JSON, o.Out, o.Log = filepath.Join(t.TempDir(), "ttyR"), true, r.out, newLog(r.log, "sink")
	ready := make(chan error, 1)
	o.Ready = func(pi sink.PortInfo) {
		var err error
		r.link = pi.Link
		if chk != nil {
			r.reader, err = openPTYReader(pi.Name, chk)
		}
		ready <- err
	}
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	go func() { r.done <- sink.Run(ctx, o) }()
	select {
	case err := <-ready:
		if err != nil {
			cancel()
			t.Fatalf("open the sink's pty as R would: %v", err)
		}
	case err := <-r.done:
		cancel()
		t.Fatalf("sink.Run returned before its port was ready: %v", err)
	case <-time.After(10 * time.Second):
		cancel()
		t.Fatal("sink port not ready within 10 s")
	}
	t.Cleanup(func() { r.stop(t) })
	return r
}

// stop ends the sink (idempotent), lets the reader drain the port, and
// returns the sink's final summary.
func (r *sinkRig) stop(t testing.TB) sink.Summary {
	t.Helper()
	r.cancel()
	select {
	case err := <-r.done:
		if err != nil {
			t.Errorf("sink.Run: %v", err)
		}
		r.done <- err
	case <-time.After(10 * time.Second):
		t.Fatal("sink.Run did not return within 10 s of cancel")
	}
	if r.reader != nil {
		select {
		case <-r.reader.done:
		case <-time.After(5 * time.Second):
			r.reader.close()
		}
	}
	var sum sink.Summary
	out := r.out.String()
	i := strings.LastIndex(out, "\n{") + 1
	if !strings.HasPrefix(out[i:], "{") {
		t.Errorf("sink printed no JSON summary: %q", out)
	} else if err := jsonUnmarshal([]byte(out[i:]), &sum); err != nil {
		t.Errorf("sink summary: %v", err)
	}
	return sum
}

// jsonUnmarshal is json.Unmarshal with the text in its error.
func jsonUnmarshal(b []byte, v any) error {
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("%w in %s", err, b)
	}
	return nil
}
