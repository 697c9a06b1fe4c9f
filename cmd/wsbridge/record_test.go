package main

import (
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wsbridge/wsbridge/internal/record"
	"github.com/wsbridge/wsbridge/internal/serve"
	"github.com/wsbridge/wsbridge/internal/testsupport"
)

// TestRecordUsageErrors: bad record flags exit 2 and say what to write.
func TestRecordUsageErrors(t *testing.T) {
	dir := t.TempDir()
	cases := []struct {
		args []string
		msg  string
	}{
		{[]string{"record", "--out", dir}, "--url is required"},
		{[]string{"record", "--url", "ws://h:1/ws"}, "--out DIR is required"},
		{[]string{"record", "--url", "h:1", "--out", dir}, "has no scheme: add ws://"},
		{[]string{"record", "--url", "ws://h:1/ws", "--out", dir, "--on-gap", "fill"}, "want split, zero or keep"},
		{[]string{"record", "--url", "ws://h:1/ws", "--out", dir, "--label", "no-equals"}, "want key=value"},
		{[]string{"record", "--url", "ws://h:1/ws", "--out", dir, "--rotate-size", "10 parsecs"}, "unknown unit"},
		{[]string{"record", "--url", "ws://h:1/ws", "--url", "ws://h:1/ws", "--out", dir}, "given twice"},
	}
	for _, c := range cases {
		_, errs, code := exec(t, c.args...)
		if code != 2 || !strings.Contains(errs, c.msg) {
			t.Errorf("%v: exit %d, stderr %q; want 2 and %q", c.args, code, errs, c.msg)
		}
	}
}

// TestRecordJSONSummary: record from serve --sim for --duration, as a
// user runs it; the --json summary names the file, which exists with its
// sidecar and labels.
func TestRecordJSONSummary(t *testing.T) {
	o := serve.DefaultOptions()
	o.Sim, o.Relay.Listen = true, "127.0.0.1:0"
	s := testsupport.StartServe(t, func(ctx context.Context, out io.Writer) error {
		o.Out = out
		return serve.Run(ctx, o)
	})
	dir := t.TempDir()
	out, errs, code := exec(t, "record", "--url", s.WS, "--out", dir, "--duration", "200ms", "--label", "take=1", "--json",
		"--log-format", "json")
	var sum record.Summary
	if code != 0 || json.Unmarshal([]byte(out), &sum) != nil || len(sum.Streams) != 1 || len(sum.Streams[0].Files) != 1 {
		t.Fatalf("exit %d, stdout %q, stderr %s", code, out, errs)
	}
	f := sum.Streams[0].Files[0]
	b, err := os.ReadFile(strings.TrimSuffix(f, filepath.Ext(f)) + ".json")
	var sc record.Sidecar
	if err != nil || json.Unmarshal(b, &sc) != nil || !sc.Complete || sc.Labels["take"] != "1" || sc.Samples != 3200 ||
		sc.Format != "wav" || sc.EndedBy != "duration" {
		t.Fatalf("sidecar of %s: %v %s", f, err, b)
	}
}
