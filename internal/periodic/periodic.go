// Package periodic runs a function on a ticker until its context ends:
// the loop behind the WebSocket client's pinger (internal/wsclient) and
// serve's GOMAXPROCS adapter.
//
// Entry point: Every.
package periodic

import (
	"context"
	"time"
)

// Every calls f each interval iv, and also whenever more delivers (nil:
// never), until ctx ends or f returns false. It runs on the caller's
// goroutine and stops its ticker before returning.
func Every(ctx context.Context, iv time.Duration, more <-chan struct{}, f func() bool) {
	t := time.NewTicker(iv)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-more:
		}
		if !f() {
			return
		}
	}
}
