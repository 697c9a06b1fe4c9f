package rig

import (
	"context"
	"io"
	"path/filepath"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/wsbridge/wsbridge/internal/adcsim"
	"github.com/wsbridge/wsbridge/internal/serve"
	"github.com/wsbridge/wsbridge/internal/testsupport"
	"github.com/wsbridge/wsbridge/internal/vport"
)

// Device runs a simulated device with cfg on a new pty until the test ends
// and returns the pty's link (ttySIM in a temporary directory). wrap, if
// not nil, wraps the port the device writes to (a recorder around it).
func Device(tb testing.TB, cfg adcsim.Config, wrap func(p *vport.Port) io.ReadWriter) string {
	tb.Helper()
	link := filepath.Join(tb.TempDir(), "ttySIM")
	p, err := vport.Create(link)
	if err != nil {
		tb.Fatal(err)
	}
	dev, err := adcsim.NewDevice(cfg)
	if err != nil {
		p.Close()
		tb.Fatal(err)
	}
	var w io.ReadWriter = p
	if wrap != nil {
		w = wrap(p)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); dev.Run(ctx, w) }()
	tb.Cleanup(func() { cancel(); p.Close(); <-done })
	return link
}

// Serve runs serve on the frames device at port, on 127.0.0.1:0 with 30 s
// of history and no log, changed by edit if not nil; it stops when the
// test ends.
func Serve(tb testing.TB, port string, edit func(o *serve.Options)) *testsupport.Served {
	tb.Helper()
	o := serve.DefaultOptions()
	o.Capture.Port, o.Capture.Input = port, "frames"
	o.Relay.Listen, o.Relay.History, o.Log = "127.0.0.1:0", 30*time.Second, zerolog.Nop()
	if edit != nil {
		edit(&o)
	}
	return testsupport.StartServe(tb, func(ctx context.Context, out io.Writer) error {
		o.Out = out
		return serve.Run(ctx, o)
	})
}

// DeviceAndServe runs a simulated device with cfg on a pty and serve on it.
func DeviceAndServe(tb testing.TB, cfg adcsim.Config) *testsupport.Served {
	tb.Helper()
	return Serve(tb, Device(tb, cfg, nil), nil)
}
