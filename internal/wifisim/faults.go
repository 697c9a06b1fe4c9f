package wifisim

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"time"

	"github.com/wsbridge/wsbridge/internal/faultproxy"
	"github.com/wsbridge/wsbridge/internal/periodic"
)

// startFaults puts a faultproxy between the board and serve and starts
// the fault schedule.
func (b *Board) startFaults(ctx context.Context) error {
	u, _ := url.Parse(b.opts.URL)
	target := b.opts.Via
	if target == "" {
		target = u.Host
		if u.Port() == "" {
			port := "80"
			if u.Scheme == "wss" {
				port = "443"
			}
			target = net.JoinHostPort(u.Hostname(), port)
		}
	}
	p, err := faultproxy.New(target)
	if err != nil {
		return fmt.Errorf("failed to start the fault proxy: %w", err)
	}
	b.proxy.Store(p)
	f := b.opts.Faults
	every(ctx, f.CutEvery, func() {
		if n := p.Cut(faultproxy.CutRST); n > 0 {
			b.opts.Log.Info().Msg("fault: connection cut")
		}
	})
	every(ctx, f.StallEvery, func() {
		b.opts.Log.Info().Dur("for", f.StallFor).Msg("fault: stall")
		p.Stall()
		periodic.Sleep(ctx, f.StallFor)
		p.Resume()
	})
	every(ctx, f.StormEvery, func() { b.storm(ctx, f.StormCuts) })
	return nil
}

// storm cuts the connection n times, each as soon as the board has
// reconnected: what a flapping access point does.
func (b *Board) storm(ctx context.Context, n int) {
	b.opts.Log.Info().Int("cuts", n).Msg("fault: reconnect storm")
	seen := b.connects()
	for i := 0; i < n && ctx.Err() == nil; i++ {
		b.proxy.Load().Cut(faultproxy.CutRST)
		for b.connects() == seen && ctx.Err() == nil { // until it is back
			periodic.Sleep(ctx, 5*time.Millisecond)
		}
		seen = b.connects()
	}
}

// every runs f every d (d > 0) until ctx ends.
func every(ctx context.Context, d time.Duration, f func()) {
	if d <= 0 {
		return
	}
	go periodic.Every(ctx, d, nil, func() bool { f(); return true })
}

func (b *Board) connects() uint64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.stats.Connects
}
