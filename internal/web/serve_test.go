package web

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wsbridge/wsbridge/internal/serve"
)

// testServe is a running `serve --sim` (serve.Run in-process: the
// simulator, capture, relay) with this package's Handler as its page.
type testServe struct {
	URL    string
	cancel context.CancelFunc
	done   chan struct{}
}

type simOpts struct {
	Addr       string // listen address; "" = 127.0.0.1:0
	Signal     string // sine or counter
	Rate       uint32
	Channels   int
	SampleType string // default i16
	Token      string
	TLSCert    string
	TLSKey     string
	Corrupt    float64 // probability that each serial byte is flipped
	Commands   bool    // --allow-commands
}

// lineWriter hands the first line written to it to a channel.
type lineWriter struct {
	once sync.Once
	c    chan string
}

func (w *lineWriter) Write(p []byte) (int, error) {
	w.once.Do(func() { w.c <- string(p) })
	return len(p), nil
}

func startServe(t *testing.T, o simOpts) *testServe {
	t.Helper()
	so := serve.DefaultOptions()
	so.Sim = true
	so.SimCfg.Signal, so.SimCfg.Rate, so.SimCfg.Channels, so.SimCfg.CorruptRate = o.Signal, o.Rate, o.Channels, o.Corrupt
	if o.SampleType != "" {
		so.SimCfg.SampleType = o.SampleType
	}
	so.Relay.Listen, so.Relay.Token, so.Relay.TLSCert, so.Relay.TLSKey = o.Addr, o.Token, o.TLSCert, o.TLSKey
	if so.Relay.Listen == "" {
		so.Relay.Listen = "127.0.0.1:0"
	}
	so.Relay.Page = Handler()
	so.Relay.AllowCommands = o.Commands
	out := &lineWriter{c: make(chan string, 1)}
	so.Out = out
	ctx, cancel := context.WithCancel(context.Background())
	s := &testServe{cancel: cancel, done: make(chan struct{})}
	errc := make(chan error, 1)
	go func() {
		defer close(s.done)
		errc <- serve.Run(ctx, so)
	}()
	select {
	case line := <-out.c: // "wsbridge serve: page URL/ stream ..."
		f := strings.Fields(line)
		if len(f) < 4 {
			cancel()
			t.Fatalf("unexpected serve output %q", line)
		}
		s.URL = strings.TrimSuffix(f[3], "/")
	case err := <-errc:
		cancel()
		t.Fatalf("serve.Run: %v", err)
	case <-time.After(10 * time.Second):
		cancel()
		t.Fatal("serve did not start in 10 s")
	}
	t.Cleanup(s.Stop)
	return s
}

// Stop shuts serve down (clients get close 1001) and waits for it.
func (s *testServe) Stop() {
	s.cancel()
	select {
	case <-s.done:
	case <-time.After(10 * time.Second):
	}
}

// waitHTTP waits until url answers, so a restarted serve is really up.
func waitHTTP(t *testing.T, url string) {
	t.Helper()
	for i := 0; i < 100; i++ {
		res, err := http.Get(url + "/healthz")
		if err == nil {
			res.Body.Close()
			return
		}
		if !errors.Is(err, context.Canceled) {
			time.Sleep(50 * time.Millisecond)
		}
	}
	t.Fatalf("%s does not answer", url)
}
