package testsupport

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestStartServeReadsTheListeningLine(t *testing.T) {
	stopped := make(chan struct{})
	s := StartServe(t, func(ctx context.Context, out io.Writer) error {
		fmt.Fprintln(out, "wsbridge serve: page http://127.0.0.1:4711/ stream ws://127.0.0.1:4711/ws")
		<-ctx.Done()
		close(stopped)
		return io.ErrClosedPipe
	})
	if s.URL != "http://127.0.0.1:4711" || s.WS != "ws://127.0.0.1:4711/ws" {
		t.Fatalf("URL %q WS %q", s.URL, s.WS)
	}
	if exited, _ := s.Exited(); exited {
		t.Fatal("Exited before Stop")
	}
	if err := s.Stop(); err != io.ErrClosedPipe {
		t.Fatalf("Stop = %v, want run's error", err)
	}
	<-stopped
	if err := s.Stop(); err != io.ErrClosedPipe {
		t.Fatalf("second Stop = %v", err)
	}
	if exited, err := s.Exited(); !exited || err != io.ErrClosedPipe {
		t.Fatalf("Exited = %v, %v", exited, err)
	}
}

func TestSelfSignedIsTrustedByItsPool(t *testing.T) {
	certFile, keyFile, pool := SelfSigned(t)
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	srv.StartTLS()
	defer srv.Close()
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	res, err := c.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
}

func TestTCPPairCarriesBytes(t *testing.T) {
	a, b := TCPPair(t)
	if _, err := a.Write([]byte("ping")); err != nil {
		t.Fatal(err)
	}
	b.SetReadDeadline(time.Now().Add(5 * time.Second))
	got := make([]byte, 4)
	if _, err := io.ReadFull(b, got); err != nil || string(got) != "ping" {
		t.Fatalf("read %q, %v", got, err)
	}
}

func TestLogEntriesMatchMessages(t *testing.T) {
	var b SyncBuffer
	fmt.Fprintln(&b, `{"level":"info","message":"device up","port":"a"}`)
	fmt.Fprintln(&b, `not json`)
	fmt.Fprintln(&b, `{"level":"warn","message":"device down"}`)
	if got := b.LogEntries("device"); len(got) != 2 || got[0]["port"] != "a" {
		t.Fatalf("LogEntries(device) = %v", got)
	}
	if got := b.WaitLogEntries(t, "down", 1, time.Second); got[0]["level"] != "warn" {
		t.Fatalf("WaitLogEntries(down) = %v", got)
	}
}

func TestWithinReportsTimeout(t *testing.T) {
	if Within(20*time.Millisecond, time.Millisecond, func() bool { return false }) {
		t.Fatal("Within(false) = true")
	}
	n := 0
	if !Within(time.Second, time.Millisecond, func() bool { n++; return n == 3 }) || n != 3 {
		t.Fatalf("Within stopped after %d calls", n)
	}
}

func TestSyncBufferLimitKeepsTheNewestLines(t *testing.T) {
	b := SyncBuffer{Limit: 40}
	for i := range 10 {
		fmt.Fprintf(&b, "line %d\n", i) // 7 bytes each
	}
	got := b.String()
	if len(got) > 40 || !strings.HasPrefix(got, "line ") || !strings.HasSuffix(got, "line 9\n") {
		t.Fatalf("kept %q", got)
	}
}

// TestReadLinesRReadsEveryLine: R's recipe reads a file (as it reads a
// port) line by line, and RunR returns what R printed.
func TestReadLinesRReadsEveryLine(t *testing.T) {
	f := filepath.Join(t.TempDir(), "port")
	if err := os.WriteFile(f, []byte("# header\n1,2\n3,4\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if got := ReadLinesR(t, f, 3, 10*time.Second); strings.Join(got, "|") != "# header|1,2|3,4" {
		t.Fatalf("R read %q", got)
	}
	if got := RunR(t, `cat(commandArgs(trailingOnly = TRUE), sep = "+")`, "a", "b"); got != "a+b" {
		t.Fatalf("RunR printed %q, want a+b", got)
	}
}

// TestGetJSONDecodesAnOK: a 200 with JSON is decoded into v.
func TestGetJSONDecodesAnOK(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `{"seq": 7}`)
	}))
	defer srv.Close()
	var v struct{ Seq int }
	GetJSON(t, srv.URL, &v)
	if v.Seq != 7 {
		t.Fatalf("decoded %+v, want seq 7", v)
	}
}

// TestParseMetricsSumsLabels: every sample under its labelled name, the
// labelled ones summed under the bare name, unlabelled ones once,
// comments and junk skipped.
func TestParseMetricsSumsLabels(t *testing.T) {
	page := "# HELP wsbridge_device_gaps_total gaps\n# TYPE wsbridge_device_gaps_total counter\n" +
		"wsbridge_device_gaps_total{channel=\"mic\"} 2\nwsbridge_device_gaps_total{channel=\"env\"} 3\n" +
		"wsbridge_clients 4\nwsbridge_label_with_space{reason=\"a b\"} 1.5\nnot a sample\n\n"
	m := ParseMetrics(page)
	want := map[string]float64{
		`wsbridge_device_gaps_total{channel="mic"}`: 2, `wsbridge_device_gaps_total{channel="env"}`: 3,
		"wsbridge_device_gaps_total": 5, "wsbridge_clients": 4,
		`wsbridge_label_with_space{reason="a b"}`: 1.5, "wsbridge_label_with_space": 1.5,
	}
	if len(m) != len(want) {
		t.Fatalf("parsed %v, want %v", m, want)
	}
	for k, v := range want {
		if m[k] != v {
			t.Fatalf("%s = %v, want %v (all: %v)", k, m[k], v, m)
		}
	}
}
