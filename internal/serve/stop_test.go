package serve

import (
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/wsbridge/wsbridge/internal/testsupport"
)

// TestStopLogsOneLine: when serve stops it logs one line saying why, what
// the shutdown did to the clients, what it received and lost, and the
// history that ends with it.
func TestStopLogsOneLine(t *testing.T) {
	var log testsupport.SyncBuffer
	o := DefaultOptions()
	o.Sim, o.SimCfg = true, simConfig()
	o.Relay.Listen, o.Log = "127.0.0.1:0", zerolog.New(&log)
	s := testsupport.StartServe(t, func(ctx context.Context, out io.Writer) error {
		o.Out = out
		return Run(ctx, o)
	})
	waitDevice(t, s.WS)
	c := testsupport.Dial(t, s.WS, nil)
	testsupport.ExpectHello(t, c)
	go func() { // reads on, so it answers the close handshake
		for {
			if _, _, err := c.Read(context.Background()); err != nil {
				return
			}
		}
	}()
	time.Sleep(100 * time.Millisecond) // 10 frames at 100 frames/s
	if err := s.Stop(); err != nil {
		t.Fatal(err)
	}
	lines := log.LogEntries("serve stopped")
	if len(lines) != 1 {
		t.Fatalf("%d 'serve stopped' lines, want 1:\n%s", len(lines), log.String())
	}
	l := lines[0]
	msg, _ := l["message"].(string)
	if l["why"] != "shutdown requested" || l["clients_closed"] != 1.0 || l["clients_cut_off"] != 0.0 ||
		l["frames_received"].(float64) < 10 || l["history_frames"].(float64) < 10 || l["device_lost_frames"] != 0.0 ||
		!strings.HasPrefix(msg, "serve stopped (shutdown requested): closed 1 clients with 1001 (0 cut off") {
		t.Errorf("stop line %v", l)
	}
}
