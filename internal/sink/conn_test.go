package sink

import (
	"context"
	"encoding/pem"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/wsbridge/wsbridge/internal/frame"
	"github.com/wsbridge/wsbridge/internal/testsupport"
	"github.com/wsbridge/wsbridge/internal/wsclient"
)

func TestWSSWithCACertAndToken(t *testing.T) {
	ts := newTServer(t, true)
	ts.token = "s3cret"
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	der := ts.srv.Certificate().Raw
	os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	r := startSink(t, ts.url(), func(o *Options) { o.CACert, o.Token = caFile, "s3cret" })
	rd := openLikeR(t, r.info.Name)
	c := ts.accept(t)
	c.hello(t, 0, nil)
	c.frames(t, 0, 2)
	if got := readUntil(t, rd, 5*time.Second, lineCount(3*testSamples)); string(got) != wantCSV(0, 2) {
		t.Fatalf("got %q", got)
	}
}

// TestWrongTokenEndsTheSinkOnceAndClearly: a token serve refuses will
// never work: the sink says so once and Run ends with ErrServer (exit 4),
// instead of retrying forever and logging "disconnected".
func TestWrongTokenEndsTheSinkOnceAndClearly(t *testing.T) {
	ts := newTServer(t, false)
	ts.token = "right"
	o := DefaultOptions()
	o.URL, o.Token, o.Virtual = ts.url(), "wr0ngT0ken", filepath.Join(t.TempDir(), "tty")
	var log testsupport.SyncBuffer
	o.Log = zerolog.New(&log)
	done := make(chan error, 1)
	go func() { done <- Run(context.Background(), o) }()
	var err error
	select {
	case err = <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("the sink kept retrying a token serve refuses")
	}
	if !errors.Is(err, ErrServer) || !errors.Is(err, wsclient.ErrUnauthorized) ||
		!strings.Contains(err.Error(), "HTTP 401 Unauthorized: bad token): the token is missing or wrong: check --token") {
		t.Errorf("Run = %v, want ErrServer naming HTTP 401 and --token", err)
	}
	if l := log.String(); strings.Contains(l, "disconnected") || strings.Contains(l, "wr0ngT0ken") {
		t.Errorf("log says disconnected, or prints the token:\n%s", l)
	}
	if len(log.LogEntries("sink stopped")) != 1 {
		t.Errorf("no stop line:\n%s", log.String())
	}
}

func TestDeadServerDetectedByPing(t *testing.T) {
	ts := newTServer(t, false)
	ts.frozen.Store(true)
	start := time.Now()
	r := startSink(t, ts.url(), func(o *Options) { o.PingInterval = 100 * time.Millisecond })
	c := ts.accept(t)
	c.hello(t, 0, nil)
	c.frames(t, 0, 0)
	c2 := ts.accept(t) // the frozen connection never answers pings
	if got := c2.req.URL.Query().Get("since"); got != "1" {
		t.Errorf("since = %q, want 1", got)
	}
	if len(r.log.LogEntries("stopped answering pings")) != 1 {
		t.Errorf("no log line about pings:\n%s", r.log.String())
	}
	t.Logf("redialled after %s", time.Since(start))
}

func TestBudgetMessage(t *testing.T) {
	o := DefaultOptions()
	o.Baud, o.Format = 115200, FormatCSV
	msg, over := budgetMessage(&o, params{Rate: 16000, Channels: 1, SampleType: frame.I16}, 6)
	want := "csv output needs 96.0 kB/s (16000 Hz x 6.0 bytes per sample instant) but 115200 baud carries 11.5 kB/s: " +
		"about 88% of the data cannot be delivered and will be dropped (counted); use a higher --baud (at least 960000), " +
		"--decimate 9, or --format raw (about 32.6 kB/s)"
	if !over || msg != want {
		t.Errorf("got %v %q\nwant %q", over, msg, want)
	}
	if _, over := budgetMessage(&o, params{Rate: 1000, Channels: 1, SampleType: frame.I16}, 6); over {
		t.Error("6 kB/s fits in 115200 baud")
	}
}

func TestOptionErrorsNameTheFlag(t *testing.T) {
	cases := []struct {
		edit func(*Options)
		want string
	}{
		{func(o *Options) { o.URL = "" }, "--url is required"},
		{func(o *Options) { o.URL = "tcp://x" }, "scheme must be ws:// or wss://"},
		{func(o *Options) { o.Virtual = "" }, "--virtual PATH"},
		{func(o *Options) { o.Port = "/dev/ttyUSB1" }, "--port and --virtual are exclusive"},
		{func(o *Options) { o.Format = "json" }, `--format "json"`},
		{func(o *Options) { o.Format, o.Decimate = FormatRaw, 2 }, "--format raw carries"},
		{func(o *Options) { o.WhenFull = "wait" }, `--when-full "wait"`},
		{func(o *Options) { o.LineEnding = "cr" }, `--line-ending "cr"`},
		{func(o *Options) { o.CACert = "x.pem" }, "--ca-cert needs a wss:// --url"},
	}
	for _, tc := range cases {
		o := DefaultOptions()
		o.URL, o.Virtual = "ws://127.0.0.1:8080/ws", "/tmp/x"
		tc.edit(&o)
		err := o.Validate()
		if !errors.Is(err, ErrOptions) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("got %v, want ErrOptions containing %q", err, tc.want)
		}
	}
	o := DefaultOptions()
	o.URL, o.Virtual = "http://127.0.0.1:8080", "/tmp/x"
	if err := o.Validate(); err != nil || o.URL != "ws://127.0.0.1:8080/ws" {
		t.Errorf("http URL normalised to %q (%v), want ws://127.0.0.1:8080/ws", o.URL, err)
	}
}

func TestTokenInURLNeverPrinted(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0") // a port nobody listens on
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	r := startSink(t, "ws://"+addr+"/ws?token=hunter2", nil)
	r.log.WaitLogEntries(t, "cannot connect", 1, 5*time.Second)
	r.stop(t)
	if all := r.out.String() + r.log.String(); strings.Contains(all, "hunter2") || strings.Contains(all, "REDACTED") {
		t.Errorf("token printed, or a REDACTED placeholder someone might copy:\n%s", all)
	}
}
