package rig

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/wsbridge/wsbridge/internal/ingest"
	"github.com/wsbridge/wsbridge/internal/relay"
)

// PubHub runs a relay with o (on 127.0.0.1:0 unless o.Listen says) and
// one network channel (ingest.Network, serve's /pub source, commands
// allowed) per device, given as {name, the device's token}; it returns
// the relay's base URL, ws://127.0.0.1:PORT. The relay and the channels
// log to o.Log. All of it stops when the test ends.
func PubHub(tb testing.TB, o relay.Options, devices ...[2]string) string {
	tb.Helper()
	if o.Listen == "" {
		o.Listen = "127.0.0.1:0"
	}
	srv, err := relay.New(o)
	if err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	tb.Cleanup(func() { cancel(); wg.Wait() })
	for _, d := range devices {
		nw, err := ingest.NewNetwork(ingest.NetworkOptions{Channel: d[0], Token: d[1], Commands: true, Log: o.Log})
		if err != nil {
			tb.Fatal(err)
		}
		ch, err := srv.AddChannel(relay.ChannelOptions{Name: d[0], Commander: nw, Ingest: nw, Counters: nw.Counters})
		if err != nil {
			tb.Fatal(err)
		}
		wg.Go(func() { nw.Run(ctx, ch) })
	}
	base, err := srv.Listen()
	if err != nil {
		tb.Fatal(err)
	}
	wg.Go(func() { srv.Serve(ctx) })
	return "ws" + strings.TrimPrefix(base, "http")
}
