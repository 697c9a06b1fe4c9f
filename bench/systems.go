//go:build linux

package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
)

// env is what every system needs to start: where things are.
type env struct {
	root     string   // repository root
	tmp      string   // scratch directory for logs, configs, binaries
	wsbridge string   // built wsbridge binary ("" if serve is not usable)
	self     string   // this bench binary, for -relayd
	node     string   // node executable ("" if missing)
	python   string   // /usr/bin/python3
	wsEnv    []string // extra environment for wsbridge (--wsbridge-env), e.g. GOMAXPROCS=1
	baseline string   // another wsbridge binary to run beside it (--baseline), "" if none
}

// system is one bridge under test.
type system struct {
	name  string
	wire  string
	note  string // how it is configured, for the report
	max   int    // most consumers it can serve meaningfully (0 = any)
	start func(e *env, pty string, port int, w workload) (*proc, error)
	// snapshot, if set, runs after the drain while every client is still
	// connected (the profile run uses it for the heap profile).
	snapshot func(p *proc)
}

func (s system) supports(consumers int) bool { return s.max == 0 || consumers <= s.max }

func allSystems() []system {
	return []system{
		{name: "wsbridge", wire: wireWSPacket, start: startWSBridge},
		{name: "baseline", wire: wireWSPacket, start: startBaseline,
			note: "the wsbridge binary given with --baseline (e.g. built from main before a change), run exactly as wsbridge is"},
		{name: "ser2net", wire: wireTCP, start: startSer2net,
			note: "ser2net 4 raw TCP accepter `tcp(nodelay)`, serialdev connector; tuned beyond its defaults: max-connections 128 (default 1), dev-to-net-bufsize 4096 (default 64), chardelay off (on adds ~1 ms), nodelay (with Nagle on, a 10 ms frame waits for the consumer's delayed ACK: p50 of several ms in 4 s runs)"},
		{name: "socat", wire: wireTCP, max: 1, start: startSocat,
			note: "socat -U TCP-LISTEN:P,fork,nodelay OPEN:pty,raw: forked children each open the pty and split the bytes, so socat serves one consumer only"},
		{name: "python", wire: wireWSStream, start: startPython,
			note: "bench/peers/py_bridge.py: pyserial reader thread + websockets.broadcast (Debian python3-serial 3.5, python3-websockets 10.4)"},
		{name: "node", wire: wireWSStream, start: startNode,
			note: "bench/peers/node_bridge.js: serialport 13 'data' events + ws 8 send to every client"},
	}
}

func addr(port int) string { return "127.0.0.1:" + strconv.Itoa(port) }

// startWSBridge runs the wsbridge binary's serve, or the bench itself in
// -relayd mode (the same serve.Run) when the binary could not be built.
// Text workloads run serve with its defaults (--input auto), as a user
// who only gives --port would.
func startWSBridge(e *env, pty string, port int, w workload) (*proc, error) {
	input := "frames"
	if w.text {
		input = "auto"
	}
	if e.wsbridge != "" {
		return startProc("wsbridge", e.tmp, e.wsEnv, e.wsbridge, "serve", "--port", pty, "--input", input,
			"--listen", addr(port), "--max-clients", "256", "--log-level", "warn")
	}
	return startProc("wsbridge", e.tmp, e.wsEnv, e.self, "-relayd", "-relayd-port", pty, "-relayd-input", input,
		"-relayd-listen", addr(port), "-relayd-max-clients", "256")
}

func startBaseline(e *env, pty string, port int, w workload) (*proc, error) {
	if e.baseline == "" {
		return nil, fmt.Errorf("no --baseline binary")
	}
	b := *e
	b.wsbridge = e.baseline
	return startWSBridge(&b, pty, port, w)
}

func startSer2net(e *env, pty string, port int, _ workload) (*proc, error) {
	cfg := fmt.Sprintf(`%%YAML 1.1
---
connection: &bench
  accepter: tcp(nodelay),127.0.0.1,%d
  connector: serialdev,%s,921600n81,local
  options:
    kickolduser: false
    max-connections: 128
    dev-to-net-bufsize: 4096
    chardelay: false
`, port, pty)
	path := filepath.Join(e.tmp, "ser2net.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o644); err != nil {
		return nil, err
	}
	return startProc("ser2net", e.tmp, nil, "ser2net", "-n", "-u", "-c", path,
		"-P", filepath.Join(e.tmp, "ser2net.pid"))
}

func startSocat(e *env, pty string, port int, _ workload) (*proc, error) {
	return startProc("socat", e.tmp, nil, "socat", "-U",
		fmt.Sprintf("TCP-LISTEN:%d,bind=127.0.0.1,reuseaddr,fork,nodelay", port),
		fmt.Sprintf("OPEN:%s,raw,echo=0", pty))
}

func startPython(e *env, pty string, port int, _ workload) (*proc, error) {
	return startProc("python", e.tmp, nil, e.python,
		filepath.Join(e.root, "bench/peers/py_bridge.py"), "--port", pty, "--listen", addr(port))
}

func startNode(e *env, pty string, port int, _ workload) (*proc, error) {
	if e.node == "" {
		return nil, fmt.Errorf("node is not installed")
	}
	return startProc("node", e.tmp, nil, e.node,
		filepath.Join(e.root, "bench/peers/node_bridge.js"), "--port", pty, "--listen", addr(port))
}

// prepareNode installs the Node peer's dependencies from the committed
// package-lock.json when bench/peers/node_modules is missing.
func prepareNode(root string) (string, error) {
	node, err := exec.LookPath("node")
	if err != nil {
		return "", fmt.Errorf("node not found: the Node peer is skipped")
	}
	dir := filepath.Join(root, "bench/peers")
	if _, err := os.Stat(filepath.Join(dir, "node_modules/serialport")); err == nil {
		return node, nil
	}
	cmd := exec.Command("npm", "install", "--no-audit", "--no-fund")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("npm install in %s failed: %v: %s", dir, err, strings.TrimSpace(string(out)))
	}
	return node, nil
}

// buildWSBridge builds ./cmd/wsbridge into tmp, unless --wsbridge names a
// binary already built (e.g. from another commit, to compare before and
// after a change in one run).
func buildWSBridge(root, tmp, prebuilt string) (string, error) {
	if prebuilt != "" {
		if _, err := exec.LookPath(prebuilt); err != nil {
			return "", fmt.Errorf("--wsbridge %s: %w", prebuilt, err)
		}
		return filepath.Abs(prebuilt)
	}
	bin := filepath.Join(tmp, "wsbridge")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/wsbridge")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("failed to build ./cmd/wsbridge: %w: %s", err, strings.TrimSpace(string(out)))
	}
	return bin, nil
}
