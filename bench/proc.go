//go:build linux

package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/wsbridge/wsbridge/internal/procstat"
)

// proc is one bridge process, started in its own process group so that it
// and every child it forks (socat forks one per connection) are killed
// together. Stop is idempotent.
type proc struct {
	name  string
	cmd   *exec.Cmd
	log   string        // file holding its stdout and stderr
	grace time.Duration // between SIGTERM and SIGKILL; 0 = 700 ms
	once  sync.Once
	done  chan struct{}
}

// live holds every started process so that main can kill them all on any
// exit path (error, panic, SIGINT).
var live = struct {
	sync.Mutex
	m map[*proc]struct{}
}{m: map[*proc]struct{}{}}

// startProc starts argv in a new process group with output to logDir.
func startProc(name, logDir string, env []string, argv ...string) (*proc, error) {
	logPath := filepath.Join(logDir, name+".log")
	f, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
	if err != nil {
		return nil, fmt.Errorf("failed to create log %s: %w", logPath, err)
	}
	defer f.Close()
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdout, cmd.Stderr = f, f
	cmd.Env = append(os.Environ(), env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("failed to start %s: %w", argv[0], err)
	}
	p := &proc{name: name, cmd: cmd, log: logPath, done: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(p.done) }()
	live.Lock()
	live.m[p] = struct{}{}
	live.Unlock()
	return p, nil
}

func (p *proc) pid() int { return p.cmd.Process.Pid }

// exited reports whether the process has ended.
func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// Stop sends SIGTERM to the group, then SIGKILL after a short grace.
func (p *proc) Stop() {
	p.once.Do(func() {
		pg := -p.pid()
		grace := p.grace
		if grace == 0 {
			grace = 700 * time.Millisecond
		}
		_ = syscall.Kill(pg, syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(grace):
		}
		_ = syscall.Kill(pg, syscall.SIGKILL) // children of a group leader that left
		select {
		case <-p.done:
		case <-time.After(2 * time.Second):
		}
		live.Lock()
		delete(live.m, p)
		live.Unlock()
	})
}

// tail returns the last lines of the process log, for error messages.
func (p *proc) tail() string {
	b, _ := os.ReadFile(p.log)
	s := strings.TrimSpace(string(b))
	if len(s) > 600 {
		s = "..." + s[len(s)-600:]
	}
	return s
}

func killAll() {
	live.Lock()
	ps := make([]*proc, 0, len(live.m))
	for p := range live.m {
		ps = append(ps, p)
	}
	live.Unlock()
	for _, p := range ps {
		p.Stop()
	}
}

// waitListening waits until something listens on 127.0.0.1:port (read
// from /proc/net/tcp, without connecting: a probe connection would make
// socat fork a child that steals bytes from the pty) or the process dies.
func waitListening(ctx context.Context, p *proc, port int, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	want := fmt.Sprintf("0100007F:%04X", port)
	for i := 0; time.Now().Before(deadline) && i < 2000; i++ {
		if p.exited() {
			return fmt.Errorf("%s exited before listening: %s", p.name, p.tail())
		}
		if listening(want) {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(10 * time.Millisecond):
		}
	}
	return fmt.Errorf("%s did not listen on port %d within %v: %s", p.name, port, limit, p.tail())
}

// listening reports whether /proc/net/tcp has local address want in LISTEN (0A).
func listening(want string) bool {
	_, _, ok := tcpTable(want)
	return ok
}

// tcpTable reads /proc/net/tcp for local address want: how many of its
// connections are established on the server side, how many wait in the
// listen socket's accept queue, and whether it is listening at all.
func tcpTable(want string) (established, queued int, listen bool) {
	b, err := os.ReadFile("/proc/net/tcp")
	if err != nil {
		return 0, 0, false
	}
	for _, l := range strings.Split(string(b), "\n") {
		f := strings.Fields(l)
		if len(f) < 5 || f[1] != want {
			continue
		}
		switch f[3] {
		case "01":
			established++
		case "0A":
			listen = true
			_, rx, _ := strings.Cut(f[4], ":")
			q, _ := strconv.ParseInt(rx, 16, 64)
			queued = int(q)
		}
	}
	return established, queued, listen
}

// waitAccepted waits until the bridge has accepted n connections on port:
// n established server-side sockets and an empty accept queue. A client's
// connect succeeds before that (the kernel completes the handshake, or
// pretends to when the backlog is full), so without this wait a bridge
// with a small listen backlog would miss the start of the stream.
func waitAccepted(port, n int, limit time.Duration) (time.Duration, error) {
	want := fmt.Sprintf("0100007F:%04X", port)
	start := time.Now()
	var est, q int
	for i := 0; i < 10000 && time.Since(start) < limit; i++ {
		est, q, _ = tcpTable(want)
		if est >= n && q == 0 {
			return time.Since(start), nil
		}
		time.Sleep(5 * time.Millisecond)
	}
	return time.Since(start), fmt.Errorf("only %d of %d connections accepted after %v (%d queued)", est, n, limit, q)
}

// usage is what /proc says about a process group.
type usage struct {
	cpu   float64 // seconds of user+system time, summed over the group
	rss   int64   // VmRSS, KiB, summed
	hwm   int64   // VmHWM (peak RSS), KiB, summed
	ctxsw int64   // context switches (voluntary + not) of every thread, summed
	procs int
}

// groupUsage sums usage over every process whose process group is pgid.
func groupUsage(pgid int) (usage, error) {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return usage{}, err
	}
	var u usage
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		pg, cpu, err := procstat.Stat(pid)
		if err != nil || pg != pgid {
			continue
		}
		if ns, _, err := procstat.Sched(pid); err == nil {
			cpu = ns // ns resolution: Stat counts 10 ms ticks, too coarse for a bridge that uses 1% of a core for 4 s
		}
		u.ctxsw += procstat.Switches(pid)
		rss, hwm, _ := procstat.Mem(pid)
		u.cpu += cpu.Seconds()
		u.rss += rss
		u.hwm += hwm
		u.procs++
	}
	if u.procs == 0 {
		return u, errors.New("no process in group")
	}
	return u, nil
}
