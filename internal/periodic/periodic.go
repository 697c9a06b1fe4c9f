// Package periodic waits on the clock until a context ends: Every runs a
// function on a ticker (the loop behind the WebSocket client's pinger,
// internal/wsclient, and serve's GOMAXPROCS adapter), Sleep waits once
// (reconnect and restart backoffs).
//
// Entry points: Every, Sleep.
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

// Sleep waits for d, or less if ctx ends first, and reports whether it
// waited the whole d.
func Sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
