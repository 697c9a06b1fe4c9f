package cli

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// runSink runs `wsbridge sink args...` for at most 5 s and returns its
// stdout, stderr, error and exit code.
func runSink(t *testing.T, args ...string) (string, string, int, error) {
	t.Helper()
	var out, errb bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	args = append([]string{"sink", "--log-format", "json", "--virtual", filepath.Join(t.TempDir(), "tty")}, args...)
	err := Execute(ctx, args, Streams{In: strings.NewReader(""), Out: &out, Err: &errb})
	if ctx.Err() != nil {
		t.Fatalf("sink still running after 5 s: %v\n%s", err, errb.String())
	}
	return out.String(), errb.String(), ExitCode(err, io.Discard), err
}

// TestSinkExitCodes: what the user typed wrong is exit 2 with what to
// type (issue 19: "first path segment in URL cannot contain colon"); a
// server that refuses the token is exit 4, said once (issue 13.5: it
// retried forever).
func TestSinkExitCodes(t *testing.T) {
	_, _, code, err := runSink(t, "--url", "127.0.0.1:8080")
	if code != ExitUsage || !strings.Contains(err.Error(), `--url "127.0.0.1:8080" has no scheme: add ws:// (ws://127.0.0.1:8080/ws)`) {
		t.Errorf("no scheme: exit %d, %v", code, err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "unauthorized", http.StatusUnauthorized)
	}))
	defer srv.Close()
	out, logs, code, err := runSink(t, "--url", strings.Replace(srv.URL, "http", "ws", 1)+"/ws", "--token", "s3cret")
	if code != ExitNetwork || !strings.Contains(err.Error(), "check --token") {
		t.Errorf("bad token: exit %d, %v", code, err)
	}
	if strings.Contains(logs+out, "s3cret") || strings.Contains(logs, "disconnected") || !strings.Contains(out, "wsbridge sink:") {
		t.Errorf("stdout %q\nlog %s", out, logs)
	}
}
