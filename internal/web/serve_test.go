package web

import (
	"context"
	"errors"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/wsbridge/wsbridge/internal/recordings"
	"github.com/wsbridge/wsbridge/internal/relay"
	"github.com/wsbridge/wsbridge/internal/serve"
	"github.com/wsbridge/wsbridge/internal/testsupport"
)

type simOpts struct {
	Addr       string // listen address; "" = 127.0.0.1:0
	Signal     string // sine or counter
	Rate       uint32
	Channels   int
	SampleType string // default i16
	Token      string
	TLSCert    string
	TLSKey     string
	Corrupt    float64       // probability that each serial byte is flipped
	Commands   bool          // --allow-commands
	RecordDir  string        // --record-dir (the recorder is mounted as the CLI does, disabled without it)
	MaxLag     time.Duration // the simulator's --max-lag: a minute never drops frames on a loaded machine
}

// startServe runs `serve --sim` (serve.Run in-process: the simulator,
// capture, relay) with this package's Handler as its page.
func startServe(t *testing.T, o simOpts) *testsupport.Served {
	t.Helper()
	so := serve.DefaultOptions()
	so.Sim = true
	so.SimCfg.Signal, so.SimCfg.Rate, so.SimCfg.Channels, so.SimCfg.CorruptRate = o.Signal, o.Rate, o.Channels, o.Corrupt
	if o.SampleType != "" {
		so.SimCfg.SampleType = o.SampleType
	}
	if o.MaxLag > 0 {
		so.SimCfg.MaxLag = o.MaxLag
	}
	so.Relay.Listen, so.Relay.Token, so.Relay.TLSCert, so.Relay.TLSKey = o.Addr, o.Token, o.TLSCert, o.TLSKey
	if so.Relay.Listen == "" {
		so.Relay.Listen = "127.0.0.1:0"
	}
	so.Relay.Page = Handler()
	so.Relay.AllowCommands = o.Commands
	so.RecordDir = o.RecordDir
	so.Recorder = func(srv *relay.Server, streams string) (serve.Recorder, error) {
		return recordings.ForServe(srv, streams, recordings.ServeConfig{Dir: o.RecordDir, Token: o.Token,
			TLSCert: o.TLSCert, TLSKey: o.TLSKey, Log: so.Log})
	}
	return testsupport.StartServe(t, func(ctx context.Context, out io.Writer) error {
		so.Out = out
		return serve.Run(ctx, so)
	})
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
