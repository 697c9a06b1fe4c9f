package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wsbridge/wsbridge/internal/testsupport"
)

var (
	buildOnce sync.Once
	buildDir  string
	buildPath string
	buildErr  error
)

// TestMain removes the binary built for the tests.
func TestMain(m *testing.M) {
	code := m.Run()
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

// wsbridgeBinary builds cmd/wsbridge once per test run.
func wsbridgeBinary(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		if buildDir, buildErr = os.MkdirTemp("", "wsbridge-e2e-"); buildErr != nil {
			return
		}
		buildPath, buildErr = testsupport.GoBuild(buildDir, "wsbridge", "github.com/wsbridge/wsbridge/cmd/wsbridge")
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return buildPath
}

// proc is the wsbridge binary running serve.
type proc struct {
	cmd      *exec.Cmd
	base, ws string
	done     chan error
}

// startServeBinary runs `wsbridge serve ARGS --listen 127.0.0.1:0` and
// waits for its listening line.
func startServeBinary(t testing.TB, args ...string) *proc {
	t.Helper()
	bin := wsbridgeBinary(t)
	args = append([]string{"serve", "--listen", "127.0.0.1:0", "--log-level", logLevel()}, args...)
	cmd := exec.Command(bin, args...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = &prefixWriter{t: t}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &proc{cmd: cmd, done: make(chan error, 1)}
	lines := make(chan string, 1)
	go func() {
		br := bufio.NewReader(out)
		l, _ := br.ReadString('\n')
		lines <- l
		io.Copy(io.Discard, br)
		p.done <- cmd.Wait()
	}()
	t.Cleanup(func() { p.stop(t) })
	select {
	case l := <-lines:
		var ok bool
		if p.ws, p.base, ok = serveURLs(l); !ok {
			t.Fatalf("wsbridge serve printed %q", l)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("wsbridge serve did not print its address within 15 s")
	}
	return p
}

// rssKiB reads VmRSS of the process from /proc.
func (p *proc) rssKiB(t testing.TB) int64 {
	t.Helper()
	return procStatus(t, p.cmd.Process.Pid, "VmRSS:")
}

// cpuTime is the process's user+system CPU time so far (/proc/PID/stat).
func (p *proc) cpuTime(t testing.TB) time.Duration {
	t.Helper()
	b, err := os.ReadFile("/proc/" + strconv.Itoa(p.cmd.Process.Pid) + "/stat")
	if err != nil {
		t.Fatal(err)
	}
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+2:]))
	ut, _ := strconv.ParseInt(f[11], 10, 64)        // field 14 of stat
	st, _ := strconv.ParseInt(f[12], 10, 64)        // field 15
	return time.Duration(ut+st) * time.Second / 100 // USER_HZ
}

func procStatus(t testing.TB, pid int, key string) int64 {
	t.Helper()
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		t.Fatalf("read /proc/%d/status: %v", pid, err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, key) {
			f := strings.Fields(l)
			n, _ := strconv.ParseInt(f[1], 10, 64)
			return n
		}
	}
	t.Fatalf("no %s in /proc/%d/status", key, pid)
	return 0
}

// stop sends SIGINT and waits up to 10 s (then kills). Idempotent.
func (p *proc) stop(t testing.TB) error {
	t.Helper()
	if p.cmd.ProcessState != nil {
		return nil
	}
	_ = p.cmd.Process.Signal(os.Interrupt)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	select {
	case err := <-p.done:
		p.done <- err
		return err
	case <-ctx.Done():
		_ = p.cmd.Process.Kill()
		t.Errorf("wsbridge serve did not exit within 10 s of SIGINT")
		return ctx.Err()
	}
}

// prefixWriter passes the binary's stderr (warnings) to the test log.
type prefixWriter struct{ t testing.TB }

func (w *prefixWriter) Write(b []byte) (int, error) {
	if os.Getenv("E2E_LOG") != "" {
		w.t.Logf("serve: %s", strings.TrimSpace(string(b)))
	}
	return len(b), nil
}

// logLevel is the binary's --log-level: E2E_LOG_LEVEL, default warn.
func logLevel() string {
	if l := os.Getenv("E2E_LOG_LEVEL"); l != "" {
		return l
	}
	return "warn"
}

// TestBinaryVersionNamesTheCommit: a binary from plain go build (no
// -ldflags) says which commit it was built from, as Go embeds it.
func TestBinaryVersionNamesTheCommit(t *testing.T) {
	head, err := exec.Command("git", "-C", "../..", "rev-parse", "HEAD").Output()
	if err != nil {
		t.Skipf("not a git checkout (or no git): %v", err)
	}
	if fi, err := os.Stat("../../.git"); err != nil || !fi.IsDir() {
		t.Skip("a git worktree (.git is a file): go build embeds no VCS information there")
	}
	out, err := exec.Command(wsbridgeBinary(t), "version", "--json").Output()
	if err != nil {
		t.Fatal(err)
	}
	var v struct{ Version, Commit string }
	if err := json.Unmarshal(out, &v); err != nil {
		t.Fatalf("version --json: %v: %s", err, out)
	}
	// Go 1.24+ also stamps a pseudo-version (v0.0.0-DATE-REV, +dirty) from VCS
	if want := strings.TrimSpace(string(head)); v.Version == "" || !strings.HasPrefix(v.Commit, want) {
		t.Errorf("version %q commit %q, want a version and commit %s (+ -dirty if the tree has changes)", v.Version, v.Commit, want)
	}
}
