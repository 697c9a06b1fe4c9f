package ingest_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/wsbridge/wsbridge/internal/frame"
	"github.com/wsbridge/wsbridge/internal/ingest"
	"github.com/wsbridge/wsbridge/internal/testsupport"
)

// tutorialBoard behaves like the tutorials' ESP32 sketches that run a
// WebSocket server: it broadcasts {"value": N} to every client every
// period, N counting up, and answers a text message with "# ok TEXT".
type tutorialBoard struct {
	addr string
	srv  *http.Server
	ln   net.Listener
	mu   sync.Mutex
	n    int
	done chan struct{}
}

func startTutorialBoard(t *testing.T, addr string, period time.Duration) *tutorialBoard {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	b := &tutorialBoard{addr: ln.Addr().String(), ln: ln, done: make(chan struct{})}
	b.srv = &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer c.CloseNow()
		ctx := r.Context()
		go func() {
			for {
				_, msg, err := c.Read(ctx)
				if err != nil {
					return
				}
				c.Write(ctx, websocket.MessageText, append([]byte("# ok "), msg...))
			}
		}()
		tick := time.NewTicker(period)
		defer tick.Stop()
		for {
			select {
			case <-b.done:
				return
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			b.mu.Lock()
			b.n++
			v := b.n
			b.mu.Unlock()
			if c.Write(ctx, websocket.MessageText, fmt.Appendf(nil, `{"value": %d}`, v)) != nil {
				return
			}
		}
	})}
	go b.srv.Serve(ln)
	return b
}

func (b *tutorialBoard) stop() {
	close(b.done)
	b.srv.Close()
}

func TestPullTutorialBoard(t *testing.T) {
	t.Parallel()
	board := startTutorialBoard(t, "127.0.0.1:0", 5*time.Millisecond)
	p, err := ingest.NewPull(ingest.PullOptions{Channel: "mic", URL: "ws://" + board.addr + "/",
		BackoffMin: 50 * time.Millisecond, BackoffMax: 200 * time.Millisecond, PingInterval: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	rec := &recorder{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { p.Run(ctx, rec); close(done) }()
	defer func() { cancel(); <-done }()
	testsupport.WaitFor(t, 5*time.Second, "50 frames", func() bool { return len(rec.frames()) >= 50 })
	fs := rec.frames()
	for i := 1; i < len(fs); i++ {
		if fs[i].Seq != fs[i-1].Seq+1 || fs[i].Int(0, 0) != fs[i-1].Int(0, 0)+1 {
			t.Fatalf("frame %d: seq %d value %d after seq %d value %d", i, fs[i].Seq, fs[i].Int(0, 0), fs[i-1].Seq, fs[i-1].Int(0, 0))
		}
	}
	if err := p.Command("blink"); err != nil {
		t.Fatal(err)
	}
	testsupport.WaitFor(t, 2*time.Second, "the reply", func() bool {
		rec.mu.Lock()
		defer rec.mu.Unlock()
		for _, pk := range rec.packets {
			if pk.Type == frame.TypeReply && string(pk.Text) == "blink" {
				return true
			}
		}
		return false
	})

	// The board goes away (power cut: its server stops), then comes back
	// on the same address.
	board.stop()
	testsupport.WaitFor(t, 3*time.Second, "down", func() bool {
		ev := rec.eventList()
		return strings.HasPrefix(ev[len(ev)-1], "down")
	})
	if err := p.Command("blink"); err == nil || !strings.Contains(err.Error(), "not connected") {
		t.Fatalf("command while the board is away: %v", err)
	}
	failures := func() float64 {
		for _, c := range p.Counters() {
			if c.Name == "pull_connect_failures_total" {
				return c.Value
			}
		}
		return 0
	}
	testsupport.WaitFor(t, 5*time.Second, "failed attempts while the board is away", func() bool { return failures() >= 2 })
	n := len(rec.frames())
	startTutorialBoard(t, board.addr, 5*time.Millisecond)
	testsupport.WaitFor(t, 5*time.Second, "frames again", func() bool { return len(rec.frames()) >= n+20 })
	ev := rec.eventList()
	if len(ev) != 4 || !strings.HasPrefix(ev[0], "down connecting") || !strings.HasPrefix(ev[1], "up connected") ||
		!strings.HasPrefix(ev[2], "down") || !strings.HasPrefix(ev[3], "up connected") {
		t.Fatalf("events %q", ev)
	}
	fs = rec.frames()
	if fs[n].Seq != fs[n-1].Seq+1 || fs[n].Int(0, 0) != 1 {
		t.Fatalf("after the return: seq %d (after %d), value %d: want the numbering to continue and the board's count from 1",
			fs[n].Seq, fs[n-1].Seq, fs[n].Int(0, 0))
	}
}

func TestPullBadURL(t *testing.T) {
	for _, u := range []string{"http://x/", "esp32.local:81", "ws://"} {
		if _, err := ingest.NewPull(ingest.PullOptions{URL: u}); err == nil || !strings.Contains(err.Error(), "ws://HOST") {
			t.Errorf("NewPull(%q) = %v", u, err)
		}
	}
}
