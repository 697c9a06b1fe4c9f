package sink

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/rs/zerolog"

	"github.com/wsbridge/wsbridge/internal/frame"
	"github.com/wsbridge/wsbridge/internal/testsupport"
	"github.com/wsbridge/wsbridge/internal/wsproto"
)

// tconn is one connection accepted by the test server.
type tconn struct {
	c      *websocket.Conn
	req    *http.Request
	done   chan struct{}
	msgs   chan []byte // text messages from the sink
	closed chan websocket.StatusCode
}

// readLoop reads what the sink sends (answering pings and the close
// handshake as a real server does).
func (c *tconn) readLoop() {
	for {
		_, b, err := c.c.Read(context.Background())
		if err != nil {
			c.closed <- websocket.CloseStatus(err)
			return
		}
		c.msgs <- b
	}
}

// tserver is a small stand-in for serve: it accepts WebSocket connections
// on 127.0.0.1 and hands them to the test, which scripts what is sent.
type tserver struct {
	srv    *httptest.Server
	conns  chan *tconn
	token  string
	frozen atomic.Bool // next connection never reads: no pongs, like a frozen server
}

func newTServer(t testing.TB, tlsOn bool) *tserver {
	ts := &tserver{conns: make(chan *tconn, 8)}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if ts.token != "" && r.Header.Get("Authorization") != "Bearer "+ts.token {
			http.Error(w, "bad token", http.StatusUnauthorized)
			return
		}
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		tc := &tconn{c: c, req: r, done: make(chan struct{}), msgs: make(chan []byte, 16), closed: make(chan websocket.StatusCode, 1)}
		if !ts.frozen.Swap(false) {
			go tc.readLoop()
		}
		ts.conns <- tc
		<-tc.done
	})
	if tlsOn {
		ts.srv = httptest.NewTLSServer(h)
	} else {
		ts.srv = httptest.NewServer(h)
	}
	t.Cleanup(ts.srv.Close)
	return ts
}

func (ts *tserver) url() string {
	return strings.Replace(ts.srv.URL, "http", "ws", 1) + "/ws"
}

// accept waits for the next connection.
func (ts *tserver) accept(t testing.TB) *tconn {
	t.Helper()
	select {
	case c := <-ts.conns:
		t.Cleanup(func() { c.release() })
		return c
	case <-time.After(10 * time.Second):
		t.Fatal("sink did not connect within 10s")
		return nil
	}
}

func (c *tconn) release() {
	select {
	case <-c.done:
	default:
		close(c.done)
	}
}

func (c *tconn) sendJSON(t testing.TB, v any) {
	t.Helper()
	b, _ := json.Marshal(v)
	if err := c.c.Write(context.Background(), websocket.MessageText, b); err != nil {
		t.Fatalf("server write: %v", err)
	}
}

func (c *tconn) hello(t testing.TB, startSeq uint32, dev *wsproto.Device) {
	t.Helper()
	c.sendJSON(t, wsproto.Hello{Type: wsproto.TypeHello, Protocol: 1, Server: "test", Format: "binary",
		DeviceState: wsproto.StateUp, Device: dev, Rate: testRate, Channels: 2, SampleType: "i16",
		Seq: startSeq, StartSeq: startSeq, Commands: true})
}

// frames sends counter frames from..to inclusive.
func (c *tconn) frames(t *testing.T, from, to uint32) {
	t.Helper()
	for s := from; s <= to; s++ {
		if err := c.c.Write(context.Background(), websocket.MessageBinary, counterFrame(s)); err != nil {
			t.Fatalf("server write frame %d: %v", s, err)
		}
	}
}

const (
	testRate    = 1000
	testSamples = 10 // sample instants per frame
)

// counterFrame is frame seq of the test stream: two i16 channels where
// sample instant k (k = seq*testSamples + i) carries k and k+1.
func counterFrame(seq uint32) []byte {
	f := frame.Frame{Seq: seq, TimeUS: uint64(seq) * testSamples * 1000, Rate: testRate, Channels: 2,
		SampleType: frame.I16, Count: testSamples, Data: make([]byte, testSamples*2*2)}
	for i := 0; i < testSamples; i++ {
		k := int64(seq)*testSamples + int64(i)
		f.PutInt(i, 0, k)
		f.PutInt(i, 1, k+1)
	}
	b, err := frame.AppendFrame(nil, &f)
	if err != nil {
		panic(err)
	}
	return b
}

// running is a sink started by a test.
type running struct {
	info   PortInfo
	out    *testsupport.SyncBuffer
	log    *testsupport.SyncBuffer
	cancel context.CancelFunc
	done   chan error
}

// startSink runs a sink with a virtual port in a temp dir; edit adjusts
// the options. It stops the sink at cleanup.
func startSink(t testing.TB, url string, edit func(o *Options)) *running {
	t.Helper()
	o := DefaultOptions()
	o.URL = url
	o.Virtual = filepath.Join(t.TempDir(), "ttyTEST")
	o.PingInterval = 0
	o.BackoffMin, o.BackoffMax = 20*time.Millisecond, 200*time.Millisecond
	o.StatusInterval = 0
	o.JSON = true
	o.FlushTimeout = 300 * time.Millisecond
	r := &running{out: &testsupport.SyncBuffer{}, log: &testsupport.SyncBuffer{}, done: make(chan error, 1)}
	o.Out = r.out
	o.Log = zerolog.New(r.log).Level(zerolog.DebugLevel)
	if edit != nil {
		edit(&o)
	}
	ready := make(chan PortInfo, 1)
	o.Ready = func(pi PortInfo) { ready <- pi }
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	go func() { r.done <- Run(ctx, o) }()
	select {
	case r.info = <-ready:
	case err := <-r.done:
		t.Fatalf("sink failed to start: %v", err)
	case <-time.After(5 * time.Second):
		t.Fatal("sink did not start")
	}
	t.Cleanup(func() { r.stop(t) })
	return r
}

// stop ends the sink and returns its summary.
func (r *running) stop(t testing.TB) Summary {
	t.Helper()
	r.cancel()
	select {
	case err := <-r.done:
		if err != nil {
			t.Errorf("sink Run: %v", err)
		}
		r.done <- nil
	case <-time.After(10 * time.Second):
		t.Fatal("sink did not stop within 10s")
	}
	var sum Summary
	out := r.out.String()
	if i := strings.LastIndex(out, "{\"duration_s\""); i >= 0 {
		json.Unmarshal([]byte(out[i:]), &sum)
	}
	return sum
}

// startLinked starts a scripted server, a sink on it (edit adjusts the
// options, as for startSink) and R's end of the sink's port, and returns
// them with the server's side of the sink's connection.
func startLinked(t testing.TB, edit func(o *Options)) (*tserver, *running, *os.File, *tconn) {
	t.Helper()
	ts := newTServer(t, false)
	r := startSink(t, ts.url(), edit)
	rd := openLikeR(t, r.info.Name)
	return ts, r, rd, ts.accept(t)
}

// openLikeR opens the pty slave read-only and non-blocking, as R's
// file(port, "r", raw = TRUE, blocking = FALSE) does.
func openLikeR(t testing.TB, name string) *os.File {
	t.Helper()
	f, err := os.OpenFile(name, os.O_RDONLY|syscall.O_NOCTTY|syscall.O_NONBLOCK, 0)
	if err != nil {
		t.Fatalf("open %s: %v", name, err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// ptyEnd is either end of a pty as the tests read it: the slave opened as
// R does (*os.File) or a vport master (the far end of a --port).
type ptyEnd interface {
	io.Reader
	SetReadDeadline(time.Time) error
}

// readUntil reads from f until cond(all bytes so far) or timeout.
func readUntil(t *testing.T, f ptyEnd, timeout time.Duration, cond func([]byte) bool) []byte {
	t.Helper()
	var all []byte
	buf := make([]byte, 64<<10)
	deadline := time.Now().Add(timeout)
	for !cond(all) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s with %d bytes read; last: %q", timeout, len(all), tail(all, 200))
		}
		f.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
		n, err := f.Read(buf)
		all = append(all, buf[:n]...)
		if err != nil && !errors.Is(err, os.ErrDeadlineExceeded) && !errors.Is(err, io.EOF) {
			t.Fatalf("read: %v", err)
		}
	}
	return all
}

// readFor reads f for d.
func readFor(f ptyEnd, d time.Duration) []byte {
	var all []byte
	buf := make([]byte, 64<<10)
	end := time.Now().Add(d)
	for time.Now().Before(end) {
		f.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
		n, _ := f.Read(buf)
		all = append(all, buf[:n]...)
	}
	return all
}

// readQuiet reads until nothing arrives for quiet.
func readQuiet(t *testing.T, f ptyEnd, quiet, max time.Duration) []byte {
	t.Helper()
	var all []byte
	buf := make([]byte, 64<<10)
	last, deadline := time.Now(), time.Now().Add(max)
	for time.Since(last) < quiet && time.Now().Before(deadline) {
		f.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
		n, _ := f.Read(buf)
		if n > 0 {
			all = append(all, buf[:n]...)
			last = time.Now()
		}
	}
	return all
}

func tail(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}

func lineCount(n int) func([]byte) bool {
	return func(b []byte) bool { return bytes.Count(b, []byte{'\n'}) >= n }
}

// openWrite opens the port for writing, as R's second connection would.
func openWrite(name string) (*os.File, error) {
	return os.OpenFile(name, os.O_WRONLY|syscall.O_NOCTTY, 0)
}
