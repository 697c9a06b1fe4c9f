//go:build linux

package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"sync"
	"syscall"

	"github.com/coder/websocket"

	"github.com/wsbridge/wsbridge/bench/internal/benchenv"
)

// runGoRelay runs the system "go-relay": the bench binary itself, started
// as `go-relay ADDR` (serveGoRelay), in place of serve, with the same
// boards and subscribers.
func runGoRelay(ctx context.Context, c *config) (*result, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	port, err := benchenv.FreePort()
	if err != nil {
		return nil, err
	}
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	cmd := exec.Command(self, "go-relay", addr)
	cmd.Stderr = os.Stderr
	cmd.Env = append(os.Environ(), "GOMAXPROCS=1") // as serve runs while light (--procs auto): one P is the cheaper here
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	if err := waitListening(addr); err != nil {
		return nil, fmt.Errorf("go-relay: %w", err)
	}
	return runHub(ctx, c, "go-relay", "the least a Go program does: net/http and coder/websocket, GOMAXPROCS=1, one goroutine per connection, each binary message written as it is to the subscriber of the same name; no checks, numbering or history", cmd.Process.Pid, port)
}

// serveGoRelay is a floor for what Go and a WebSocket library cost to
// carry a frame from a board to its subscriber: net/http and
// github.com/coder/websocket (serve's handshake too), a goroutine per
// connection, every binary message a publisher sends on /pub/NAME
// written as it is to the subscriber of /ws/NAME, if one is connected. It
// checks nothing and keeps nothing; it greets a publisher as serve does
// (last_seq null), so the boards run unchanged.
func serveGoRelay(addr string) error {
	// The boards send an Origin header as arduinoWebSockets does; serve
	// checks tokens, not origins, on /pub. On loopback, in a bench.
	acceptAny := &websocket.AcceptOptions{InsecureSkipVerify: true}
	var mu sync.Mutex
	subs := map[string]*websocket.Conn{}
	mux := http.NewServeMux()
	mux.HandleFunc("/ws/{name}", func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, acceptAny)
		if err != nil {
			return
		}
		defer c.CloseNow()
		name := r.PathValue("name")
		mu.Lock()
		subs[name] = c
		mu.Unlock()
		<-c.CloseRead(r.Context()).Done() // answers pings and the close
		mu.Lock()
		if subs[name] == c {
			delete(subs, name)
		}
		mu.Unlock()
	})
	mux.HandleFunc("/pub/{name}", func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, acceptAny)
		if err != nil {
			return
		}
		defer c.CloseNow()
		c.SetReadLimit(1 << 20)
		ctx, name := context.Background(), r.PathValue("name")
		hello := fmt.Sprintf(`{"type":"hello","protocol":1,"server":"go-relay","role":"publisher","channel":%q,"epoch":"00000000","boot":"","last_seq":null,"commands":false}`, name)
		if c.Write(ctx, websocket.MessageText, []byte(hello)) != nil {
			return
		}
		for {
			typ, b, err := c.Read(ctx)
			if err != nil {
				return
			}
			mu.Lock()
			s := subs[name]
			mu.Unlock()
			if s != nil && typ == websocket.MessageBinary {
				_ = s.Write(ctx, websocket.MessageBinary, b)
			}
		}
	})
	return http.ListenAndServe(addr, mux)
}
