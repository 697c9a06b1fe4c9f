package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/wsbridge/wsbridge/internal/cli"
	"github.com/wsbridge/wsbridge/internal/testsupport"
)

// exec runs the command line as main does and returns stdout, stderr and the exit code.
func exec(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	var out, errb bytes.Buffer
	err := run(context.Background(), args, strings.NewReader(""), &out, &errb)
	code := cli.ExitCode(err, &errb)
	return out.String(), errb.String(), code
}

func TestVersion(t *testing.T) {
	out, _, code := exec(t, "version")
	if code != 0 || !strings.HasPrefix(out, "wsbridge ") || !strings.Contains(out, runtime.Version()) {
		t.Fatalf("code %d out %q", code, out)
	}
	out, _, code = exec(t, "version", "--json")
	var v struct {
		Version   string `json:"version"`
		GoVersion string `json:"go_version"`
	}
	if code != 0 || json.Unmarshal([]byte(out), &v) != nil || v.GoVersion != runtime.Version() || v.Version == "" {
		t.Fatalf("code %d out %q", code, out)
	}
}

func TestHelpListsCommands(t *testing.T) {
	out, _, code := exec(t, "--help")
	for _, c := range []string{"serve", "sink", "sim", "ports", "version", "completion"} {
		if !strings.Contains(out, "\n  "+c+" ") {
			t.Errorf("--help does not list %s", c)
		}
	}
	if code != 0 {
		t.Fatalf("code %d", code)
	}
}

func TestUsageErrorsExit2(t *testing.T) {
	cases := [][]string{
		{"frobnicate"},
		{"version", "--no-such-flag"},
		{"version", "extra-arg"},
		{"--log-level", "loud", "version"},
		{"--log-format", "xml", "version"},
		{"--config", "/nonexistent/wsbridge.yaml", "version"},
	}
	for _, args := range cases {
		_, errOut, code := exec(t, args...)
		if code != cli.ExitUsage || !strings.HasPrefix(errOut, "wsbridge: ") {
			t.Errorf("%v: code %d stderr %q, want %d", args, code, errOut, cli.ExitUsage)
		}
	}
}

func TestConfigFileUnknownKey(t *testing.T) {
	p := filepath.Join(t.TempDir(), "c.yaml")
	if err := os.WriteFile(p, []byte("jsn: true\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, errOut, code := exec(t, "--config", p, "version")
	if code != cli.ExitUsage || !strings.Contains(errOut, `line 1: unknown key "jsn" (did you mean "json"?)`) {
		t.Fatalf("code %d stderr %q", code, errOut)
	}
}

func TestEnvSetsFlag(t *testing.T) {
	t.Setenv("WSBRIDGE_JSON", "true")
	out, _, code := exec(t, "version")
	if code != 0 || !strings.HasPrefix(out, "{") {
		t.Fatalf("code %d out %q: WSBRIDGE_JSON=true should select --json", code, out)
	}
}

// TestServeCheckPrecedence drives the real serve command: defaults < file <
// WSBRIDGE_* < flags, validated and printed by --check without starting.
func TestServeCheckPrecedence(t *testing.T) {
	p := filepath.Join(t.TempDir(), "serve.yaml")
	file := "listen: 127.0.0.1:1111\nhistory: 1m\nmax-clients: 5\nsim: true\n"
	if err := os.WriteFile(p, []byte(file), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("WSBRIDGE_HISTORY", "2m")
	t.Setenv("WSBRIDGE_TOKEN", "s3cret")
	out, errOut, code := exec(t, "serve", "--config", p, "--listen", "127.0.0.1:2222", "--check")
	if code != 0 {
		t.Fatalf("code %d stderr %q", code, errOut)
	}
	for _, want := range []string{"listen: 127.0.0.1:2222\n", "history: 2m0s\n", "max-clients: 5\n", "sim: true\n", "token: <set>\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("--check output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "s3cret") {
		t.Error("--check printed the token")
	}
}

func TestCheckRejectsBadValues(t *testing.T) {
	cases := map[string][]string{
		`--slow-client "drop": want skip or close`:                 {"serve", "--slow-client", "drop", "--check"},
		`--procs "two": want auto or a number of CPUs (1 or more)`: {"serve", "--procs", "two", "--check"},
		"--url is required":                  {"sink", "--check"},
		"rate: must be 1..2000000 Hz, got 0": {"sim", "--rate", "0", "--check"},
	}
	for want, args := range cases {
		_, errOut, code := exec(t, args...)
		if code != cli.ExitUsage || !strings.Contains(errOut, want) {
			t.Errorf("%v: code %d stderr %q, want exit 2 and %q", args, code, errOut, want)
		}
	}
}

func TestSimCheckOpensTheWAVFile(t *testing.T) {
	_, errOut, code := exec(t, "sim", "--signal", "wav:/nonexistent/voice.wav", "--check")
	if code != cli.ExitUsage || !strings.Contains(errOut, "/nonexistent/voice.wav") {
		t.Fatalf("code %d stderr %q: --check must report the missing wav file", code, errOut)
	}
}

// TestServeCheckProbes: --check also says whether the address is free,
// whether the port exists and opens, and warns about an open listener
// without a token, with the exit codes serve itself would give.
func TestServeCheckProbes(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	taken := ln.Addr().String()
	_, errOut, code := exec(t, "serve", "--sim", "--listen", taken, "--check")
	if code != cli.ExitNetwork || !strings.Contains(errOut, "failed to listen on "+taken) {
		t.Errorf("address in use: code %d stderr %q, want exit 4", code, errOut)
	}
	_, errOut, code = exec(t, "serve", "--port", "/dev/ttyNOPE9", "--listen", "127.0.0.1:0", "--check")
	if code != cli.ExitDevice || !strings.Contains(errOut, "/dev/ttyNOPE9 not found") {
		t.Errorf("missing port: code %d stderr %q, want exit 3", code, errOut)
	}
	_, errOut, code = exec(t, "serve", "--sim", "--listen", "0.0.0.0:0", "--check", "--log-format", "json")
	if code != 0 || !strings.Contains(errOut, "WITHOUT A TOKEN") {
		t.Errorf("open listener without token: code %d stderr %q, want exit 0 and the warning", code, errOut)
	}
}

// TestJSONEverywhere: --json makes each command's result one JSON object
// (or array) per line: ports' list, and serve's URLs once it listens.
func TestJSONEverywhere(t *testing.T) {
	out, _, code := exec(t, "ports", "--json")
	var ports []map[string]any
	if code != 0 || json.Unmarshal([]byte(out), &ports) != nil || strings.Count(out, "\n") != 1 {
		t.Errorf("ports --json: code %d out %q, want one JSON array", code, out)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var sout, serr testsupport.SyncBuffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"serve", "--sim", "--listen", "127.0.0.1:0", "--json"}, strings.NewReader(""), &sout, &serr)
	}()
	testsupport.WaitFor(t, 10*time.Second, "serve's first line", func() bool { return strings.Contains(sout.String(), "\n") })
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("serve: %v; stderr %s", err, serr.String())
	}
	var l struct{ Page, Stream string }
	line, _, _ := strings.Cut(sout.String(), "\n")
	if err := json.Unmarshal([]byte(line), &l); err != nil || !strings.HasPrefix(l.Page, "http://127.0.0.1:") || !strings.HasPrefix(l.Stream, "ws://127.0.0.1:") {
		t.Errorf("serve --json printed %q, want {\"page\":...,\"stream\":...}", line)
	}
}

// TestErrorsSayWhatToDo: the messages a user meets for a bad value, a
// setting from the environment or a file, a near-miss name, and
// --version, with their exit codes.
func TestErrorsSayWhatToDo(t *testing.T) {
	dir := t.TempDir()
	file := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	signal, slow := file("signal.yaml", "signal: saw\n"), file("slow.yaml", "listen: 127.0.0.1:0\nslow-client: kick\n")
	cases := []struct {
		env  string
		args []string
		want string
	}{
		{"", []string{"serve", "--sim", "--sim-rate", "-5"}, `wsbridge: --sim-rate "-5": want a whole number from 0 to 4294967295` + "\n"},
		{"", []string{"serve", "--history", "soon"}, `wsbridge: --history "soon": want a duration such as 500ms, 30s or 2m` + "\n"},
		{"WSBRIDGE_SIM_RATE=-5", []string{"serve", "--sim", "--check"},
			`wsbridge: invalid configuration: WSBRIDGE_SIM_RATE="-5": want a whole number from 0 to 4294967295` + "\n"},
		{"WSBRIDGE_SLOW_CLIENT=kick", []string{"serve", "--sim", "--check"}, `wsbridge: WSBRIDGE_SLOW_CLIENT "kick": want skip or close` + "\n"},
		{"", []string{"serve", "--sim", "--config", slow, "--check"}, `wsbridge: slow-client (` + slow + ` line 2) "kick": want skip or close` + "\n"},
		{"", []string{"serve", "--sim", "--slow-client", "kick", "--check"}, `wsbridge: --slow-client "kick": want skip or close` + "\n"},
		{"", []string{"serve", "--config", signal, "--check"},
			`wsbridge: invalid configuration: ` + signal + ` line 1: unknown key "signal" (did you mean "sim-signal"?)` + "\n"},
		{"", []string{"serve", "--sim-sigal", "saw"}, "wsbridge: unknown flag: --sim-sigal (did you mean --sim-signal?)\n"},
	}
	for _, c := range cases {
		if k, v, ok := strings.Cut(c.env, "="); ok {
			t.Setenv(k, v)
		}
		out, errOut, code := exec(t, c.args...)
		if code != cli.ExitUsage || errOut != c.want || out != "" {
			t.Errorf("%s %v: exit %d stderr %q stdout %q\nwant exit 2 and %q", c.env, c.args, code, errOut, out, c.want)
		}
		if k, _, ok := strings.Cut(c.env, "="); ok {
			os.Unsetenv(k)
		}
	}
	version, _, _ := exec(t, "version")
	for _, flag := range []string{"--version", "-v"} {
		if out, errOut, code := exec(t, flag); code != 0 || out != version {
			t.Errorf("wsbridge %s: exit %d stdout %q stderr %q, want what `wsbridge version` prints: %q", flag, code, out, errOut, version)
		}
	}
}
