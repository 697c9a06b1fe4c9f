package record

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/rs/zerolog"

	"github.com/wsbridge/wsbridge/internal/frame"
	"github.com/wsbridge/wsbridge/internal/testsupport"
	"github.com/wsbridge/wsbridge/internal/wsproto"
)

// script is what a test server sends on its n-th connection (from 0);
// it returns when the connection should close.
type script func(t *testing.T, n int, c *sconn)

// sconn is one connection of the scripted server.
type sconn struct {
	ctx context.Context
	ws  *websocket.Conn
	req *http.Request
}

func (c *sconn) json(t *testing.T, v any) {
	b, _ := json.Marshal(v)
	if err := c.ws.Write(c.ctx, websocket.MessageText, b); err != nil {
		t.Errorf("server write: %v", err)
	}
}

// frames sends counter frames from..to of the test stream.
func (c *sconn) frames(t *testing.T, from, to uint32) {
	for s := from; ; s++ {
		if err := c.ws.Write(c.ctx, websocket.MessageBinary, counterFrame(s)); err != nil {
			t.Errorf("server write frame %d: %v", s, err)
		}
		if s == to {
			return
		}
	}
}

func (c *sconn) hello(t *testing.T, epoch wsproto.Epoch, start uint32) {
	c.json(t, wsproto.Hello{Type: wsproto.TypeHello, Protocol: 1, Server: "test", Channel: "mic", Epoch: epoch,
		Format: "binary", DeviceState: wsproto.StateUp, Device: &testDevice, Rate: testRate, Channels: 2,
		SampleType: "i16", Seq: start, StartSeq: start})
}

const (
	testRate    = 1000
	testSamples = 10 // sample instants per frame
)

var testDevice = wsproto.Device{Name: "t", Rate: testRate, Channels: 2, SampleType: "i16", FrameSamples: testSamples,
	ChannelInfo: []frame.Channel{{Name: "left"}, {Name: "right"}}}

// counterFrame is frame seq of the test stream: two i16 channels where
// sample instant k = seq*testSamples + i carries k and -k; its device time
// is k ms.
func counterFrame(seq uint32) []byte {
	f := frame.Frame{Seq: seq, TimeUS: uint64(seq) * testSamples * 1000, Rate: testRate, Channels: 2,
		SampleType: frame.I16, Count: testSamples, Data: make([]byte, testSamples*2*2)}
	for i := range testSamples {
		k := int64(seq)*testSamples + int64(i)
		f.PutInt(i, 0, k)
		f.PutInt(i, 1, -k)
	}
	b, err := frame.AppendFrame(nil, &f)
	if err != nil {
		panic(err)
	}
	return b
}

// scriptServer serves s on 127.0.0.1 and returns its ws:// URL.
func scriptServer(t *testing.T, s script) string {
	t.Helper()
	var conns atomic.Int32 // each connection is served on its own goroutine
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer ws.CloseNow()
		n := int(conns.Add(1)) - 1 // counted at accept: a reconnect may come before the script returns
		ctx := ws.CloseRead(r.Context())
		s(t, n, &sconn{ctx: ctx, ws: ws, req: r})
		<-ctx.Done()
	}))
	t.Cleanup(srv.Close)
	return strings.Replace(srv.URL, "http", "ws", 1) + "/ws/mic"
}

// recording is a Run started by a test.
type recording struct {
	cancel context.CancelFunc
	done   chan struct{}
	sum    Summary
	err    error
}

// startRecord runs Run with o (Dir, Log, FlushInterval filled in) until
// stop.
func startRecord(t *testing.T, o Options) *recording {
	t.Helper()
	return startRecordLog(t, o, nil)
}

// startRecordLog is startRecord with its log (warnings) also in log, if
// not nil.
func startRecordLog(t *testing.T, o Options, log *testsupport.SyncBuffer) *recording {
	t.Helper()
	if o.Dir == "" {
		o.Dir = t.TempDir()
	}
	var w io.Writer = zerolog.NewTestWriter(t)
	if log != nil {
		w = io.MultiWriter(w, log)
	}
	o.Log = zerolog.New(w).Level(zerolog.WarnLevel)
	o.FlushInterval = 20 * time.Millisecond
	o.BackoffMin, o.BackoffMax = 20*time.Millisecond, 100*time.Millisecond
	ctx, cancel := context.WithCancel(context.Background())
	r := &recording{cancel: cancel, done: make(chan struct{})}
	go func() { defer close(r.done); r.sum, r.err = Run(ctx, o) }()
	t.Cleanup(func() { r.stop(t) })
	return r
}

// stop ends the recording as SIGTERM does and waits for Run.
func (r *recording) stop(t *testing.T) Summary {
	t.Helper()
	r.cancel()
	select {
	case <-r.done:
	case <-time.After(10 * time.Second):
		t.Fatal("record did not stop within 10s")
	}
	if r.err != nil {
		t.Errorf("record: %v", r.err)
	}
	return r.sum
}

// sidecars reads every sidecar in dir, oldest file first (by first seq
// within an epoch, in the order the files were made).
func sidecars(t *testing.T, dir string) []Sidecar {
	t.Helper()
	paths, _ := filepath.Glob(filepath.Join(dir, "*.json"))
	var out []Sidecar
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		var s Sidecar
		if err := json.Unmarshal(b, &s); err != nil {
			t.Fatalf("%s: %v\n%s", p, err, b)
		}
		out = append(out, s)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].StartedAt < out[j].StartedAt })
	return out
}

// waitFor waits up to 10s for cond.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	testsupport.WaitFor(t, 10*time.Second, what, cond)
}
