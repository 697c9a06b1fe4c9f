package cli

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestRecordExitCodes: a bad flag is exit 2; a server that refuses the
// recorder for good (a wrong token) is exit 4, as for the sink (README,
// "Exit codes"), and the summary is still printed.
func TestRecordExitCodes(t *testing.T) {
	run := func(args ...string) (string, int, error) {
		var out bytes.Buffer
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		args = append([]string{"record", "--log-format", "json", "--out", t.TempDir()}, args...)
		err := Execute(ctx, args, Streams{In: strings.NewReader(""), Out: &out, Err: io.Discard})
		if ctx.Err() != nil {
			t.Fatalf("record still running after 5 s: %v", err)
		}
		return out.String(), ExitCode(err, io.Discard), err
	}
	if _, code, err := run("--url", "ws://127.0.0.1:1/ws", "--on-gap", "fill"); code != ExitUsage {
		t.Errorf("--on-gap fill: exit %d, %v", code, err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "unauthorized", http.StatusUnauthorized)
	}))
	defer srv.Close()
	out, code, err := run("--url", strings.Replace(srv.URL, "http", "ws", 1)+"/ws/mic", "--token", "s3cret")
	if code != ExitNetwork || !strings.Contains(err.Error(), "401") || !strings.Contains(out, "wsbridge record:") {
		t.Errorf("bad token: exit %d, %v; stdout %q", code, err, out)
	}
}
