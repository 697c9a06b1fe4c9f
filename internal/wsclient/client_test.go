package wsclient

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/pem"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/rs/zerolog"

	"github.com/wsbridge/wsbridge/internal/wsproto"
)

// logBuf collects log lines; safe for concurrent use.
type logBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuf) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func wsURL(srv *httptest.Server, path string) string {
	return strings.Replace(srv.URL, "http", "ws", 1) + path
}

// helloServer is a wsbridge-like server: hello, then whatever send does.
func helloServer(t *testing.T, first func(c *websocket.Conn)) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer c.CloseNow()
		first(c)
		c.Read(r.Context()) // until the client goes
	}))
	t.Cleanup(srv.Close)
	return srv
}

func sendHello(c *websocket.Conn, h wsproto.Hello) {
	h.Type = wsproto.TypeHello
	b, _ := json.Marshal(h)
	c.Write(context.Background(), websocket.MessageText, b)
}

// runOnce runs a client against url until it returns or 3 s pass, and
// returns Run's error and the log.
func runOnce(t *testing.T, o Options) (string, error) {
	t.Helper()
	var log logBuf
	o.Log = zerolog.New(&log)
	o.BackoffMin, o.BackoffMax = 10*time.Millisecond, 20*time.Millisecond
	c, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	err = c.Run(ctx, nopHandler{})
	return log.String(), err
}

type nopHandler struct{}

func (nopHandler) Resume() Position { return Position{} }
func (nopHandler) Serve(ctx context.Context, c *Conn) error {
	var b bytes.Buffer
	_, err := c.Read(&b)
	return err
}

func TestErrorsThatWillNotHealEndRunOnceAndClearly(t *testing.T) {
	html := "<!DOCTYPE html><html><body><h1>404 page</h1>" + strings.Repeat("x", 400) + "</body></html>"
	cases := []struct {
		name    string
		handler http.HandlerFunc
		token   string
		kind    error
		want    string
	}{
		{"bad token", func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, "unauthorized: wrong token", http.StatusUnauthorized)
		}, "hunter2", ErrUnauthorized, "refused the connection (HTTP 401 Unauthorized: unauthorized: wrong token): the token is missing or wrong: check --token"},
		{"404 html page", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(http.StatusNotFound)
			w.Write([]byte(html))
		}, "", ErrNotFound, "/ws: no WebSocket endpoint there (HTTP 404 Not Found): check the path"},
		{"directory listing", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html")
			w.Write([]byte("<pre><a href=\"x\">x</a></pre>"))
		}, "", ErrNotWsbridge, "is not a WebSocket endpoint: it answered HTTP 200 OK without upgrading"},
		{"not wsbridge", func(w http.ResponseWriter, r *http.Request) {
			c, err := websocket.Accept(w, r, nil)
			if err != nil {
				return
			}
			c.Write(r.Context(), websocket.MessageText, []byte(`{"value": 1234}`))
			c.Read(r.Context())
		}, "", ErrNotWsbridge, `is not a wsbridge stream: its first message is text "{\"value\": 1234}", not a hello`},
		{"other 4xx", func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, "bad since", http.StatusBadRequest)
		}, "", ErrRefused, "refused the connection (HTTP 400 Bad Request: bad since)"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var attempts atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				attempts.Add(1)
				tc.handler(w, r)
			}))
			defer srv.Close()
			log, err := runOnce(t, Options{URL: wsURL(srv, "/ws") + "?token=" + tc.token, Token: tc.token})
			if !errors.Is(err, tc.kind) || !Permanent(err) {
				t.Fatalf("Run = %v, want %v (will not heal)", err, tc.kind)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q\nwant it to contain %q", err, tc.want)
			}
			if n := attempts.Load(); n != 1 {
				t.Errorf("%d attempts: it retried", n)
			}
			all := err.Error() + log
			for _, bad := range []string{"<html", "<pre", "DOCTYPE", "REDACTED", "disconnected"} {
				if strings.Contains(all, bad) {
					t.Errorf("%q printed:\n%s", bad, all)
				}
			}
			if tc.token != "" && strings.Contains(all, tc.token) {
				t.Errorf("token printed: %s", all)
			}
		})
	}
}

func TestTLSErrors(t *testing.T) {
	tlsSrv := httptest.NewTLSServer(http.NotFoundHandler())
	defer tlsSrv.Close()
	plain := httptest.NewServer(http.NotFoundHandler())
	defer plain.Close()
	_, err := runOnce(t, Options{URL: wsURL(tlsSrv, "/ws")})
	if !errors.Is(err, ErrUntrusted) || !strings.Contains(err.Error(), "certificate is not trusted") || !strings.Contains(err.Error(), "--ca-cert") {
		t.Errorf("self-signed: %v", err)
	}
	_, err = runOnce(t, Options{URL: "wss://" + strings.TrimPrefix(plain.URL, "http://") + "/ws"})
	if !errors.Is(err, ErrUntrusted) || !strings.Contains(err.Error(), "does not speak TLS: use ws://") {
		t.Errorf("wss to plain: %v", err)
	}
	_, err = runOnce(t, Options{URL: "ws://" + strings.TrimPrefix(tlsSrv.URL, "https://") + "/ws"})
	if !errors.Is(err, ErrUntrusted) || !strings.Contains(err.Error(), "use wss://") {
		t.Errorf("ws to TLS: %v", err)
	}
	ca := filepath.Join(t.TempDir(), "ca.pem")
	os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: tlsSrv.Certificate().Raw}), 0o600)
	_, err = runOnce(t, Options{URL: wsURL(tlsSrv, "/ws"), CACert: ca})
	if !errors.Is(err, ErrNotFound) {
		t.Errorf("with --ca-cert the handshake should reach HTTP (404): %v", err)
	}
}

func TestErrorsThatHealAreRetriedAndNeverCalledDisconnected(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refused := "ws://" + ln.Addr().String() + "/ws"
	ln.Close()
	busy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "server full", http.StatusServiceUnavailable)
	}))
	defer busy.Close()
	reset := newResetServer(t)
	for name, u := range map[string]string{"refused": refused, "503": wsURL(busy, "/ws"), "reset": reset} {
		t.Run(name, func(t *testing.T) {
			var log logBuf
			c, _ := New(Options{URL: u + "?token=hunter2", Log: zerolog.New(&log), BackoffMin: 10 * time.Millisecond, BackoffMax: 20 * time.Millisecond})
			ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
			defer cancel()
			if err := c.Run(ctx, nopHandler{}); err != nil {
				t.Fatalf("Run = %v, want nil after ctx ends (it heals: keep trying)", err)
			}
			l := log.String()
			if n := strings.Count(l, "cannot connect"); n < 3 {
				t.Errorf("%d attempts logged, want retries:\n%s", n, l)
			}
			for _, bad := range []string{"disconnected", "hunter2", "REDACTED"} {
				if strings.Contains(l, bad) {
					t.Errorf("log says %q:\n%s", bad, l)
				}
			}
		})
	}
}

// newResetServer accepts TCP connections and resets them at once.
func newResetServer(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.(*net.TCPConn).SetLinger(0)
			c.Close()
		}
	}()
	return "ws://" + ln.Addr().String() + "/ws"
}

func TestRetryForeverLogsTheHopelessErrorOnce(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "nope", http.StatusUnauthorized)
	}))
	defer srv.Close()
	var log logBuf
	c, _ := New(Options{URL: wsURL(srv, "/ws"), RetryForever: true, Log: zerolog.New(&log).Level(zerolog.InfoLevel),
		BackoffMin: 5 * time.Millisecond, BackoffMax: 5 * time.Millisecond})
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	if err := c.Run(ctx, nopHandler{}); err != nil {
		t.Fatalf("Run = %v, want nil with RetryForever", err)
	}
	l := log.String()
	if strings.Count(l, `"level":"error"`) != 1 || !strings.Contains(l, "retrying anyway: --retry-forever") {
		t.Errorf("want exactly one error line naming --retry-forever:\n%s", l)
	}
	if n := strings.Count(l, "\n"); n > 10 {
		t.Errorf("%d log lines for one repeated failure", n)
	}
}

func TestResumeSendsSinceAndEpochAndDisconnectIsLoggedAfterAConnection(t *testing.T) {
	queries := make(chan string, 4)
	srv := helloServer(t, func(c *websocket.Conn) {
		sendHello(c, wsproto.Hello{Epoch: "0000abcd", StartSeq: 7})
		c.Close(websocket.StatusGoingAway, "bye")
	})
	srv.Config.Handler = wrapQuery(srv.Config.Handler, queries)
	var log logBuf
	c, _ := New(Options{URL: wsURL(srv, "/ws"), Log: zerolog.New(&log), BackoffMin: 10 * time.Millisecond})
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	c.Run(ctx, fixedResume{Position{Seq: 42, Epoch: "0000abcd", Valid: true}})
	if q := <-queries; q != "epoch=0000abcd&format=binary&since=42" {
		t.Errorf("query %q", q)
	}
	if !strings.Contains(log.String(), "disconnected after") || strings.Contains(log.String(), "cannot connect") {
		t.Errorf("log:\n%s", log.String())
	}
}

type fixedResume struct{ p Position }

func (f fixedResume) Resume() Position { return f.p }
func (f fixedResume) Serve(ctx context.Context, c *Conn) error {
	var b bytes.Buffer
	_, err := c.Read(&b)
	return err
}

func wrapQuery(h http.Handler, q chan<- string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case q <- r.URL.RawQuery:
		default:
		}
		h.ServeHTTP(w, r)
	})
}

func TestAnyServerKeepsTheFirstMessage(t *testing.T) {
	srv := helloServer(t, func(c *websocket.Conn) {
		c.Write(context.Background(), websocket.MessageText, []byte(`{"value": 1}`))
		c.Write(context.Background(), websocket.MessageText, []byte(`{"value": 2}`))
	})
	c, _ := New(Options{URL: wsURL(srv, "/"), AnyServer: true})
	cn, err := c.Dial(context.Background(), Position{})
	if err != nil {
		t.Fatal(err)
	}
	defer cn.CloseNow()
	if cn.Hello != nil {
		t.Fatalf("hello %+v from a server that sent none", cn.Hello)
	}
	var b bytes.Buffer
	for _, want := range []string{`{"value": 1}`, `{"value": 2}`} {
		if _, err := cn.Read(&b); err != nil || b.String() != want {
			t.Fatalf("read %q (%v), want %q", b.String(), err, want)
		}
	}
}

func TestDialCancelClosesWithNormalClosure(t *testing.T) {
	codes := make(chan websocket.StatusCode, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		sendHello(c, wsproto.Hello{})
		_, _, err = c.Read(context.Background())
		codes <- websocket.CloseStatus(err)
	}))
	defer srv.Close()
	c, _ := New(Options{URL: wsURL(srv, "/ws")})
	ctx, cancel := context.WithCancel(context.Background())
	cn, err := c.Dial(ctx, Position{})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { var b bytes.Buffer; _, err := cn.Read(&b); done <- err }()
	cancel()
	select {
	case code := <-codes:
		if code != websocket.StatusNormalClosure {
			t.Errorf("server saw close %d, want 1000", code)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("no close after cancel")
	}
	if err := <-done; err == nil {
		t.Error("Read returned nil after close")
	}
}

func TestParseURL(t *testing.T) {
	cases := []struct{ in, want, err string }{
		{"127.0.0.1:8080", "", `--url "127.0.0.1:8080" has no scheme: add ws:// (ws://127.0.0.1:8080/ws), or wss:// for TLS`},
		{"localhost:8080/ws/mic", "", `add ws:// (ws://localhost:8080/ws/mic)`},
		{"http://h:8080", "ws://h:8080/ws", ""},
		{"https://h/ws/mic", "wss://h/ws/mic", ""},
		{"ws://esp32.local:81/", "ws://esp32.local:81/", ""},
		{"tcp://x", "", "scheme must be ws:// or wss://"},
		{"", "", "--url is required"},
	}
	for _, tc := range cases {
		got, err := ParseURL(tc.in, "/ws")
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("ParseURL(%q) = %q, %v; want error containing %q", tc.in, got, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("ParseURL(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}

func TestDisplayURLDropsTheToken(t *testing.T) {
	if got := DisplayURL("ws://h:1/ws?token=s3cret&format=csv"); got != "ws://h:1/ws?format=csv" {
		t.Errorf("got %q", got)
	}
}

func TestCheckResume(t *testing.T) {
	at := func(seq uint32, e string) Position { return Position{Seq: seq, Epoch: e, Valid: true} }
	cases := []struct {
		asked Position
		h     wsproto.Hello
		why   string
	}{
		{Position{}, wsproto.Hello{StartSeq: 0, Epoch: "a"}, ""},
		{at(500, "aaaaaaaa"), wsproto.Hello{StartSeq: 500, Epoch: "aaaaaaaa"}, ""},
		{at(500, "aaaaaaaa"), wsproto.Hello{StartSeq: 600, Epoch: "aaaaaaaa"}, ""}, // a history gap, announced
		{at(500, "aaaaaaaa"), wsproto.Hello{StartSeq: 10, Epoch: "bbbbbbbb"}, "epoch"},
		{at(5, "aaaaaaaa"), wsproto.Hello{StartSeq: 900, Epoch: "bbbbbbbb"}, "epoch"},
		{at(500, ""), wsproto.Hello{StartSeq: 0}, "start_seq"},
		{at(500, "aaaaaaaa"), wsproto.Hello{StartSeq: 3, Epoch: "aaaaaaaa"}, "start_seq"},
		{at(1, ""), wsproto.Hello{StartSeq: 0xFFFFFFF0}, "start_seq"},
	}
	for i, tc := range cases {
		r := CheckResume(tc.asked, &tc.h)
		got := ""
		if r != nil {
			got = r.Why
			if r.OldSeq != tc.asked.Seq || r.Seq != tc.h.StartSeq || r.Epoch != tc.h.Epoch || r.OldEpoch != tc.asked.Epoch {
				t.Errorf("case %d: %+v", i, r)
			}
		}
		if got != tc.why {
			t.Errorf("case %d: why %q, want %q", i, got, tc.why)
		}
	}
}

func TestBackoffDoublesWithJitterToCapAndResets(t *testing.T) {
	b := Backoff{Min: 250 * time.Millisecond, Max: 10 * time.Second, rnd: func() float64 { return 0.999999 }}
	var got []time.Duration
	for range 8 {
		got = append(got, b.Next().Round(time.Millisecond))
	}
	want := []time.Duration{250, 500, 1000, 2000, 4000, 8000, 10000, 10000}
	for i := range want {
		if got[i] != want[i]*time.Millisecond {
			t.Fatalf("delays %v, want %v ms (upper jitter)", got, want)
		}
	}
	b.rnd = func() float64 { return 0 }
	b.Reset()
	if d := b.Next(); d != 125*time.Millisecond {
		t.Errorf("after reset with lowest jitter: %s, want 125ms", d)
	}
}

// TestServeErrorThatWillNotHealEndsRun: a handler that finds out, after
// the hello, that the server can never be used (the sink with a server
// that is neither serve nor a board) ends Run like a failed dial.
func TestServeErrorThatWillNotHealEndsRun(t *testing.T) {
	srv := helloServer(t, func(c *websocket.Conn) { sendHello(c, wsproto.Hello{}) })
	c, _ := New(Options{URL: wsURL(srv, "/ws"), BackoffMin: time.Millisecond})
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	want := permanent(ErrNotWsbridge, nil, "not a stream")
	if err := c.Run(ctx, failing{want}); err != want {
		t.Fatalf("Run = %v, want the handler's error", err)
	}
}

type failing struct{ err error }

func (failing) Resume() Position                     { return Position{} }
func (f failing) Serve(context.Context, *Conn) error { return f.err }
