package web

import (
	"context"
	"errors"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/wsbridge/wsbridge/internal/adcsim"
	"github.com/wsbridge/wsbridge/internal/frame"
	"github.com/wsbridge/wsbridge/internal/relay"
)

// testServe is a running serve --sim: the in-process simulator, the frame
// decoder and the relay with this package's Handler as its page, all real.
// (internal/serve wires the same parts; when it lands this helper can call
// serve.Run instead.)
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
}

func startServe(t *testing.T, o simOpts) *testServe {
	t.Helper()
	cfg := adcsim.DefaultConfig()
	cfg.Signal, cfg.Rate, cfg.Channels = o.Signal, o.Rate, o.Channels
	cfg.CorruptRate = o.Corrupt
	if o.SampleType != "" {
		cfg.SampleType = o.SampleType
	}
	ro := relay.DefaultOptions()
	ro.Listen, ro.Token, ro.TLSCert, ro.TLSKey, ro.Page = o.Addr, o.Token, o.TLSCert, o.TLSKey, Handler()
	if ro.Listen == "" {
		ro.Listen = "127.0.0.1:0"
	}
	srv, err := relay.New(ro)
	if err != nil {
		t.Fatalf("relay.New: %v", err)
	}
	url, err := srv.Listen()
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	port, err := adcsim.Open(ctx, cfg)
	if err != nil {
		cancel()
		t.Fatalf("adcsim.Open: %v", err)
	}
	s := &testServe{URL: url, cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(s.done)
		go pump(port, srv)
		if err := srv.Serve(ctx); err != nil {
			t.Errorf("relay: %v", err)
		}
		port.Close()
	}()
	t.Cleanup(s.Stop)
	return s
}

// pump reads the simulator's serial bytes into the relay until the port closes.
func pump(port io.Reader, srv *relay.Server) {
	dec := frame.NewDecoder(srv.Packet)
	srv.DeviceUp("open")
	buf := make([]byte, 64<<10)
	for {
		n, err := port.Read(buf)
		dec.Write(buf[:n])
		if err != nil {
			return
		}
	}
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
