package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/wsbridge/wsbridge/internal/serve"
	"github.com/wsbridge/wsbridge/internal/wsproto"
)

// TestSlowReaderIsSkippedNotReset: a client that keeps reading, but at half
// the stream's rate, must get what docs/serve.md ("Slow clients") promises
// under the default --slow-client skip: once it is further behind than the
// history holds, a slow_client gap naming the frames it missed, and the
// stream continues on the same connection.
//
// Regression test: the pong answering serve's keepalive ping is queued
// behind the frames already in the socket buffers, so a client with more
// than one --ping-interval of backlog answers late. Until relay commit
// 061645e, pingLoop (internal/relay/reader.go) then dropped it with
// CloseNow: a TCP reset, no close status, no gap (with the defaults, a
// half-rate reader of a 65 kB/s stream was reset after about 24 s, 12 s
// behind). Scaled here (history 1 s, ping 2 s, 260 kB/s) so that it shows
// in seconds.
func TestSlowReaderIsSkippedNotReset(t *testing.T) {
	if testing.Short() {
		t.Skip("takes about 10 s")
	}
	t.Parallel()
	srv := simServe(t, func(o *serve.Options) {
		o.SimCfg = counterConfig(32000, 2, 320) // 100 frames/s of 2.6 kB
		o.Relay.History, o.Relay.PingInterval = time.Second, 2*time.Second
	})
	c, err := dialWS(srv.ws, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	start := time.Now()
	var gap *wsproto.Gap
	var readErr error
	for n := 0; time.Since(start) < 10*time.Second && gap == nil; n++ {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		typ, b, err := c.Read(ctx)
		cancel()
		if err != nil {
			readErr = err
			break
		}
		var g wsproto.Gap
		if typ == websocket.MessageText && json.Unmarshal(b, &g) == nil && g.Type == wsproto.TypeGap && g.Reason == wsproto.GapSlowClient {
			gap = &g
		}
		time.Sleep(20 * time.Millisecond) // about 45 messages/s: under half the stream's 100 frames/s
	}
	m := srv.metrics(t)
	if gap == nil {
		var ce websocket.CloseError
		t.Errorf("a client reading at half rate got no slow_client gap in %v; the connection ended: %v (close status: %v); "+
			"serve counted %v slow-client skips, %v ping timeouts, %v write timeouts",
			time.Since(start).Round(time.Millisecond), readErr, errors.As(readErr, &ce), m["slow_client_skips_total"],
			m["client_ping_timeouts_total"], m["client_write_timeouts_total"])
		return
	}
	t.Logf("slow_client gap %d..%d (%d frames) after %v", gap.From, gap.To, gap.Count, time.Since(start).Round(time.Millisecond))
}
