package relay

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/wsbridge/wsbridge/internal/testsupport"
)

// get performs a plain HTTP GET and returns status and body.
func get(t *testing.T, url string, h http.Header) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	for k, v := range h {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// dialErr dials and expects the handshake to fail with status code.
func dialErr(t *testing.T, url string, h http.Header, code int, body string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, resp, err := websocket.Dial(ctx, url, &websocket.DialOptions{HTTPHeader: h})
	if err == nil {
		c.CloseNow()
		t.Fatalf("dial %s succeeded, want %d", url, code)
	}
	if resp == nil || resp.StatusCode != code {
		t.Fatalf("dial %s: %v, response %v; want %d", url, err, resp, code)
	}
	b, _ := io.ReadAll(resp.Body)
	if !strings.Contains(string(b), body) {
		t.Fatalf("dial %s: body %q, want it to contain %q", url, b, body)
	}
}

func TestTokenAuth(t *testing.T) {
	s, base := testServer(t, Options{Token: "s3cret"})
	bearer := http.Header{"Authorization": {"Bearer s3cret"}}
	wrong := http.Header{"Authorization": {"Bearer nope"}}
	for _, p := range []string{"/api/info", "/metrics"} {
		if code, body := get(t, base+p, nil); code != 401 || !strings.Contains(body, `send the header "Authorization: Bearer TOKEN" or add ?token=TOKEN`) {
			t.Errorf("%s without token: %d %q", p, code, body)
		}
		if code, body := get(t, base+p, wrong); code != 401 || !strings.Contains(body, "wrong token in the Authorization header") {
			t.Errorf("%s wrong token: %d %q", p, code, body)
		}
		if code, body := get(t, base+p+"?token=nope", nil); code != 401 || !strings.Contains(body, "wrong token in the token query parameter") {
			t.Errorf("%s wrong query token: %d %q", p, code, body)
		}
		if code, _ := get(t, base+p, bearer); code != 200 {
			t.Errorf("%s with bearer: %d", p, code)
		}
		if code, _ := get(t, base+p+"?token=s3cret", nil); code != 200 {
			t.Errorf("%s with query token: %d", p, code)
		}
	}
	if code, body := get(t, base+"/healthz", nil); code != 200 || !strings.Contains(body, `"status": "ok"`) {
		t.Errorf("/healthz needs no token: %d %q", code, body)
	}
	dialErr(t, wsURL(base, ""), nil, 401, "this server requires a token")
	dialErr(t, wsURL(base, "token=nope"), nil, 401, "wrong token")
	testsupport.ExpectHello(t, testsupport.Dial(t, wsURL(base, ""), bearer))
	testsupport.ExpectHello(t, testsupport.Dial(t, wsURL(base, "token=s3cret"), nil))
	if got := s.Info().Counters["requests_unauthorized_total"]; got != 8 {
		t.Errorf("requests_unauthorized_total = %v, want 8", got)
	}
}

func TestOrigin(t *testing.T) {
	s, base := testServer(t, Options{AllowOrigin: []string{"*.example.org"}})
	host := strings.TrimPrefix(base, "http://")
	dialErr(t, wsURL(base, ""), http.Header{"Origin": {"https://evil.example.com"}}, 403,
		"Origin https://evil.example.com is not allowed to open a WebSocket")
	testsupport.ExpectHello(t, testsupport.Dial(t, wsURL(base, ""), http.Header{"Origin": {"https://lab.example.org"}}))
	testsupport.ExpectHello(t, testsupport.Dial(t, wsURL(base, ""), http.Header{"Origin": {"http://" + host}}))
	testsupport.ExpectHello(t, testsupport.Dial(t, wsURL(base, ""), nil)) // no Origin: not a browser
	// arduinoWebSockets (ESP32 sketches) sends "Origin: file://"; a page opened from a file sends "null".
	testsupport.ExpectHello(t, testsupport.Dial(t, wsURL(base, ""), http.Header{"Origin": {"file://"}}))
	dialErr(t, wsURL(base, ""), http.Header{"Origin": {"null"}}, 403, `Origin "null" is not a valid URL`)
	if got := s.Info().Counters["clients_refused_origin_total"]; got != 2 {
		t.Errorf("clients_refused_origin_total = %v, want 2 (evil.example.com and null)", got)
	}
}

func TestMaxClients(t *testing.T) {
	s, base := testServer(t, Options{MaxClients: 2})
	a := testsupport.Dial(t, wsURL(base, ""), nil)
	testsupport.ExpectHello(t, a)
	testsupport.ExpectHello(t, testsupport.Dial(t, wsURL(base, ""), nil))
	dialErr(t, wsURL(base, ""), nil, 503, "busy: this server already has its maximum of 2 WebSocket clients (--max-clients)")
	a.Close(websocket.StatusNormalClosure, "")
	testsupport.WaitFor(t, 2*time.Second, "a slot to free", func() bool { return clients(s) == 1 })
	testsupport.ExpectHello(t, testsupport.Dial(t, wsURL(base, ""), nil))
	if got := s.Info().Counters["clients_refused_full_total"]; got != 1 {
		t.Errorf("clients_refused_full_total = %v", got)
	}
}

func TestBadQuery(t *testing.T) {
	_, base := testServer(t, Options{})
	dialErr(t, wsURL(base, "format=xml"), nil, 400, "bad format=xml: want binary, json or csv")
	dialErr(t, wsURL(base, "since=-1"), nil, 400, "bad since=\"-1\"")
	dialErr(t, wsURL(base, "since=5&epoch=%22%3E"), nil, 400, "bad epoch=\"\\\">\": want the epoch from hello")
}

func TestOptionsValidate(t *testing.T) {
	for _, tc := range []struct {
		o    Options
		want string
	}{
		{Options{SlowClient: "drop"}, `--slow-client "drop": want skip or close`},
		{Options{MaxClients: -1}, "--max-clients must be at least 1"},
		{Options{TLSCert: "a.pem"}, "--tls-cert and --tls-key go together"},
		{Options{AllowOrigin: []string{"[x"}}, `--allow-origin "[x" is not a valid host pattern`},
		{Options{History: -time.Second}, "--history must be positive"},
	} {
		if _, err := New(tc.o); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("New(%+v) = %v, want %q", tc.o, err, tc.want)
		}
	}
	s, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		o    ChannelOptions
		want string
	}{
		{ChannelOptions{Name: "Mic"}, `channel name "Mic": want 1 to 32 lower-case letters`},
		{ChannelOptions{Name: "-mic"}, `channel name "-mic"`},
		{ChannelOptions{Name: strings.Repeat("a", 33)}, `channel name "aaaa`},
		{ChannelOptions{Name: "mic"}, ""},
		{ChannelOptions{Name: "mic"}, `channel name "mic" is used twice`},
		{ChannelOptions{Name: "accel", HistoryBytes: 100}, "history-bytes at least 65536"},
	} {
		_, err := s.AddChannel(tc.o)
		if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want) || !errors.Is(err, ErrOptions)) {
			t.Errorf("AddChannel(%+v) = %v, want %q", tc.o, err, tc.want)
		}
	}
}
