//go:build linux

package main

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/wsbridge/wsbridge/internal/faultproxy"
	"github.com/wsbridge/wsbridge/internal/periodic"
)

// linkCutter puts the boards' links to the hub behind a proxy that resets
// every connection at once every c.cutEvery (an access point that
// restarts): with --cut-every the boards publish to addr, the subscribers
// stay connected to the hub directly. Without it addr is the hub's own.
// stop ends the cuts (at the window's end: the boards then reconnect
// and catch up through the proxy), close closes the proxy (when the run
// is over); cuts is how many there were.
type linkCutter struct {
	addr  string
	cuts  atomic.Uint64
	stop  func()
	close func()
}

func cutLinks(ctx context.Context, c *config, hub string) (*linkCutter, error) {
	if c.cutEvery <= 0 {
		return &linkCutter{addr: hub, stop: func() {}, close: func() {}}, nil
	}
	p, err := faultproxy.New(hub)
	if err != nil {
		return nil, err
	}
	l := &linkCutter{addr: p.Addr()}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		periodic.Every(ctx, c.cutEvery, nil, func() bool {
			p.Cut(faultproxy.CutRST)
			l.cuts.Add(1)
			return true
		})
	}()
	l.stop = func() { cancel(); <-done }
	l.close = func() { l.stop(); p.Close() }
	return l, nil
}

// drain is how long the boards keep running after the window, so that
// its frames reach the subscribers: 1.5 s, and with cuts long enough for
// a board cut at the window's end to reconnect (paho waits 1 s before its
// first attempt; sim --publish's backoff is shorter) and resend.
func drain(c *config) time.Duration {
	if c.cutEvery > 0 {
		return 5 * time.Second
	}
	return 1500 * time.Millisecond
}
