//go:build linux

package main

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/coder/websocket"

	"github.com/wsbridge/wsbridge/bench/internal/benchenv"
	"github.com/wsbridge/wsbridge/internal/wifisim"
)

const subToken = "bench-subscribers"

// runWSBridge runs `wsbridge serve` with one network channel per board:
// boards publish on /pub/bNNN (sim --publish's code, with the resend
// ring), one subscriber per channel reads /ws/bNNN. bin is a prebuilt
// binary, or "" to build ./cmd/wsbridge.
func runWSBridge(ctx context.Context, e *env, c *config, system, bin string) (*result, error) {
	note := "wsbridge serve (%s), history 30s"
	if bin == "" {
		bin = filepath.Join(e.tmp, "wsbridge")
		build := exec.Command("go", "build", "-o", bin, "./cmd/wsbridge")
		build.Dir, build.Stderr = e.root, os.Stderr
		if err := build.Run(); err != nil {
			return nil, fmt.Errorf("go build ./cmd/wsbridge: %w", err)
		}
		rev, _ := exec.Command("git", "-C", e.root, "rev-parse", "--short", "HEAD").Output()
		note = fmt.Sprintf(note, "this tree, "+strings.TrimSpace(string(rev)))
	} else {
		note = fmt.Sprintf(note, "the binary "+bin)
	}
	port, err := benchenv.FreePort()
	if err != nil {
		return nil, err
	}
	var conf strings.Builder
	fmt.Fprintf(&conf, "listen: 127.0.0.1:%d\nhistory: 30s\ntoken: %s\nmax-clients: %d\ndevices:\n", port, subToken, c.devices+16)
	for i := 0; i < c.devices; i++ {
		fmt.Fprintf(&conf, "  - {name: %s, network: true, token: %s}\n", name(i), token(i))
	}
	cf := filepath.Join(e.tmp, "serve.yaml")
	if err := os.WriteFile(cf, []byte(conf.String()), 0o600); err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, "serve", "--config", cf, "--log-level", "warn")
	cmd.Stderr = os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	defer func() { cmd.Process.Signal(syscall.SIGTERM); cmd.Wait() }()
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "wsbridge serve:") {
		return nil, fmt.Errorf("serve did not start: %q %v", line, err)
	}
	go func() { bufio.NewReader(out).WriteTo(discard{}) }()
	return runHub(ctx, c, system, note, cmd.Process.Pid, port)
}

// runHub runs the boards (sim --publish's code) publishing on /pub/bNNN
// and one subscriber per board reading /ws/bNNN of the hub (process pid)
// listening on port, and measures them.
func runHub(ctx context.Context, c *config, system, note string, pid, port int) (*result, error) {
	base := fmt.Sprintf("ws://127.0.0.1:%d", port)
	links, err := cutLinks(ctx, c, fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		return nil, err
	}
	defer links.close()
	res := &result{system: system, note: note}
	t := newTally(c)
	rctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	var subs []*sub
	for i := 0; i < c.devices; i++ {
		s := &sub{t: t}
		subs = append(subs, s)
		conn, _, err := websocket.Dial(ctx, base+"/ws/"+name(i), &websocket.DialOptions{
			HTTPHeader: http.Header{"Authorization": {"Bearer " + subToken}}})
		if err != nil {
			return nil, fmt.Errorf("subscriber %d: %w", i, err)
		}
		conn.SetReadLimit(1 << 20)
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer conn.CloseNow()
			for {
				typ, b, err := conn.Read(rctx)
				if err != nil {
					return
				}
				if typ == websocket.MessageBinary {
					s.frame(b)
				} else if strings.Contains(string(b), `"type":"gap"`) {
					s.gapMsgs++
				}
			}
		}()
	}
	var made atomic.Uint64
	var boards []*wifisim.Board
	bctx, stopBoards := context.WithCancel(ctx)
	var bwg sync.WaitGroup
	for i := 0; i < c.devices; i++ {
		o := wifisim.DefaultOptions()
		o.Device = boardConfig(c, i)
		o.URL, o.Token = "ws://"+links.addr+"/pub/"+name(i), token(i)
		o.Stamp = (&stamper{t: t, made: &made}).stamp
		b, err := wifisim.New(o)
		if err != nil {
			stopBoards()
			return nil, err
		}
		boards = append(boards, b)
		bwg.Add(1)
		go func() { defer bwg.Done(); b.Run(bctx) }()
	}
	measure(ctx, res, pid, t, func() (adc, overrun uint64) {
		for _, b := range boards {
			st := b.Stats()
			adc, overrun = adc+st.Device.Dropped, overrun+st.Overrun
		}
		return adc, overrun
	})
	links.stop()
	res.cuts = links.cuts.Load()
	time.Sleep(drain(c)) // the frames of the window reach the subscribers
	stopBoards()
	bwg.Wait()
	cancel()
	wg.Wait()
	for _, s := range subs {
		s.done()
	}
	for _, b := range boards {
		st := b.Stats()
		res.reconnects += st.Connects - min(st.Connects, 1)
	}
	res.finish(t, made.Load())
	return res, nil
}

func name(i int) string  { return fmt.Sprintf("b%03d", i) }
func token(i int) string { return fmt.Sprintf("board-token-%03d", i) }

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }
