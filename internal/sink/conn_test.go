package sink

import (
	"encoding/pem"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wsbridge/wsbridge/internal/frame"
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

func TestWrongTokenKeepsRetryingWithActionableLog(t *testing.T) {
	ts := newTServer(t, false)
	ts.token = "right"
	r := startSink(t, ts.url(), func(o *Options) { o.Token = "wrong" })
	lines := r.log.WaitLogEntries(t, "disconnected from serve", 3, 5*time.Second)
	if e, _ := lines[0]["error"].(string); !strings.Contains(e, "HTTP 401 bad token): check --token") {
		t.Errorf("error = %q, want it to say HTTP 401 and --token", e)
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
	if len(r.log.LogEntries("does not answer pings")) != 1 {
		t.Errorf("no log line about pings:\n%s", r.log.String())
	}
	t.Logf("redialled after %s", time.Since(start))
}

func TestBackoffDoublesWithJitterToCapAndResets(t *testing.T) {
	b := backoff{min: 250 * time.Millisecond, max: 10 * time.Second, rnd: func() float64 { return 0.999999 }}
	var got []time.Duration
	for range 8 {
		got = append(got, b.next().Round(time.Millisecond))
	}
	want := []time.Duration{250, 500, 1000, 2000, 4000, 8000, 10000, 10000}
	for i := range want {
		if got[i] != want[i]*time.Millisecond {
			t.Fatalf("delays %v, want %v ms (upper jitter)", got, want)
		}
	}
	b.rnd = func() float64 { return 0 }
	b.reset()
	if d := b.next(); d != 125*time.Millisecond {
		t.Errorf("after reset with lowest jitter: %s, want 125ms", d)
	}
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
	r.log.WaitLogEntries(t, "disconnected from serve", 1, 5*time.Second)
	r.stop(t)
	if all := r.out.String() + r.log.String(); strings.Contains(all, "hunter2") || !strings.Contains(all, "token=REDACTED") {
		t.Errorf("token printed or not redacted:\n%s", all)
	}
}
