package e2e

import (
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/wsbridge/wsbridge/internal/serve"
	"github.com/wsbridge/wsbridge/internal/wsproto"
)

const abuseToken = "s3cret-token"

// The abuse stream: counter, 2 channels of i32 at 1 kHz, 10 samples per
// frame: 100 frames/s, light enough for many checking clients under -race.
const (
	abuseRate = 1000
	abuseFS   = 10
)

// simServe runs serve with its in-process simulator (counter, i32).
func simServe(t testing.TB, edit func(o *serve.Options)) *serveRig {
	t.Helper()
	o := serve.DefaultOptions()
	o.Sim, o.SimCfg = true, counterConfig(abuseRate, chainChans, abuseFS)
	if edit != nil {
		edit(&o)
	}
	srv := startServe(t, o)
	srv.waitFrames(t, 1, 5*time.Second)
	return srv
}

// upgrade sends a WebSocket handshake as a plain HTTP request and returns
// the status, the body and the headers of a refusal.
func upgrade(t *testing.T, rawURL string, h http.Header) (int, string, http.Header) {
	t.Helper()
	req, err := http.NewRequest("GET", "http"+strings.TrimPrefix(rawURL, "ws"), nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range h {
		req.Header[k] = v
	}
	req.Header.Set("Connection", "Upgrade")
	req.Header.Set("Upgrade", "websocket")
	req.Header.Set("Sec-WebSocket-Version", "13")
	req.Header.Set("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")
	resp, err := (&http.Client{Timeout: 5 * time.Second}).Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", rawURL, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	return resp.StatusCode, strings.TrimSpace(string(b)), resp.Header
}

// expectRefusal checks a handshake's HTTP answer exactly.
func expectRefusal(t *testing.T, what, rawURL string, h http.Header, code int, body string) http.Header {
	t.Helper()
	got, b, hdr := upgrade(t, rawURL, h)
	if got != code || b != body {
		t.Errorf("%s: HTTP %d %q\nwant HTTP %d %q", what, got, b, code, body)
	}
	return hdr
}

// witness is a well-behaved client kept connected through the abuse: it
// must receive every frame, in order, once.
func witness(t *testing.T, srv *serveRig) *wsRec {
	t.Helper()
	w := dialRec(t, srv.ws+"?format=binary", "binary", abuseFS, chainChans, bearer(abuseToken))
	w.waitSeq(t, 0, 5*time.Second)
	return w
}

// checkWitness fails unless w is still connected and got a contiguous,
// exact stream with no gap of any kind.
func checkWitness(t *testing.T, w *wsRec, srv *serveRig) {
	t.Helper()
	// Half a second more than the abuse took (100 frames/s), then all of it.
	last := max(srv.nextSeq(t)-1, w.state().Seqs[0].From+50)
	w.waitSeq(t, last, 10*time.Second)
	st := w.state()
	if ended, err := w.ended(); ended {
		t.Errorf("witness was disconnected: %v", err)
	}
	c := st.Counter
	if len(st.Hellos) != 1 || len(st.Seqs) != 1 || len(st.Gaps) != 0 || c.Lost.total() != 0 || c.Dups != 0 || c.NBad != 0 || st.DupSeqs != 0 {
		t.Errorf("witness: hellos %d, frames %v, gaps %+v, %s", len(st.Hellos), st.Seqs, st.Gaps, c)
	}
	t.Logf("witness: frames %v contiguous, %s", st.Seqs, c)
}

// TestAbuseHTTP: missing and wrong tokens, a foreign Origin, a flood beyond
// --max-clients, bad queries: each gets its documented HTTP answer before
// any upgrade, while a witness client keeps receiving every frame.
func TestAbuseHTTP(t *testing.T) {
	t.Parallel()
	const maxClients = 12
	srv := simServe(t, func(o *serve.Options) { o.Relay.Token, o.Relay.MaxClients = abuseToken, maxClients })
	w := witness(t, srv)
	host := strings.TrimPrefix(srv.base, "http://")
	need := "unauthorized: this server requires a token: send the header \"Authorization: Bearer TOKEN\" or add ?token=TOKEN to the URL"
	hdr := expectRefusal(t, "no token", srv.ws, nil, 401, need)
	if got := hdr.Get("WWW-Authenticate"); got != `Bearer realm="wsbridge"` {
		t.Errorf("no token: WWW-Authenticate %q", got)
	}
	expectRefusal(t, "wrong bearer", srv.ws, bearer("nope"), 401, "unauthorized: wrong token in the Authorization header")
	expectRefusal(t, "wrong ?token", srv.ws+"?token=nope", nil, 401, "unauthorized: wrong token in the token query parameter")
	expectRefusal(t, "basic auth", srv.ws, http.Header{"Authorization": {"Basic eDp5"}}, 401,
		`unauthorized: wrong token in the Authorization header (want "Bearer TOKEN")`)
	expectRefusal(t, "foreign Origin", srv.ws, http.Header{"Authorization": {"Bearer " + abuseToken}, "Origin": {"https://evil.example"}}, 403,
		"forbidden: Origin https://evil.example is not allowed to open a WebSocket on "+host+
			": serve allows pages from the same host; add --allow-origin evil.example to allow it")
	expectRefusal(t, "bad format", srv.ws+"?format=xml&token="+abuseToken, nil, 400, "bad format=xml: want binary, json or csv")
	expectRefusal(t, "bad since", srv.ws+"?since=-1&token="+abuseToken, nil, 400, `bad since="-1": want a frame sequence number 0..4294967295`)
	for _, p := range []string{"/metrics", "/api/info"} {
		if code, _ := httpGet(t, srv.base+p, nil); code != 401 {
			t.Errorf("GET %s without token: HTTP %d, want 401", p, code)
		}
	}
	if code, _ := httpGet(t, srv.base+"/healthz", nil); code != 200 {
		t.Errorf("GET /healthz without token: HTTP %d, want 200", code)
	}
	floodMaxClients(t, srv, maxClients)
	m := srv.metrics(t)
	if m["requests_unauthorized_total"] < 6 || m["clients_refused_origin_total"] != 1 || m["clients_refused_full_total"] < 1 {
		t.Errorf("metrics: unauthorized %v (want >= 6), origin %v (want 1), full %v (want >= 1)",
			m["requests_unauthorized_total"], m["clients_refused_origin_total"], m["clients_refused_full_total"])
	}
	checkWitness(t, w, srv)
}

// floodMaxClients fills every client slot (the witness holds one), checks
// that 20 more are refused with 503 while the others keep reading, then
// frees the slots and checks a newcomer gets in.
func floodMaxClients(t *testing.T, srv *serveRig, maxClients int) {
	t.Helper()
	var held []*wsRec
	for i := 1; i < maxClients; i++ {
		held = append(held, dialRecMode(t, srv.ws+"?format=json", "json", abuseFS, chainChans, bearer(abuseToken), true))
	}
	busy := "busy: this server already has its maximum of 12 WebSocket clients (--max-clients); try again later"
	for i := 0; i < 20; i++ {
		hdr := expectRefusal(t, "flood", srv.ws, bearer(abuseToken), 503, busy)
		if hdr.Get("Retry-After") != "5" {
			t.Errorf("503 without Retry-After: 5 (%q)", hdr.Get("Retry-After"))
		}
	}
	seq := srv.nextSeq(t)
	for _, h := range held {
		h.waitSeq(t, seq, 5*time.Second) // the held clients are served meanwhile
		h.close()
	}
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		c, err := dialWS(srv.ws, bearer(abuseToken))
		if err == nil {
			c.CloseNow()
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("slots not freed 5 s after the clients left: %v", err)
		}
	}
}

// TestAbuseMessages: malformed JSON, two objects, unknown and missing
// types, binary messages, bad and forbidden commands each get their
// documented error message and the connection stays open (and keeps
// receiving frames); an oversize message closes it with 1009. A witness
// sees none of it.
func TestAbuseMessages(t *testing.T) {
	t.Parallel()
	srv := simServe(t, func(o *serve.Options) { o.Relay.Token = abuseToken })
	w := witness(t, srv)
	bad := dialRec(t, srv.ws+"?format=csv", "csv", abuseFS, chainChans, bearer(abuseToken))
	bad.waitSeq(t, 0, 5*time.Second)
	cases := []struct {
		typ       websocket.MessageType
		msg, code string
		text      string // exact message; "" = any
	}{
		{websocket.MessageText, `{"type":`, wsproto.ErrBadJSON, ""},
		{websocket.MessageText, `not json at all`, wsproto.ErrBadJSON, ""},
		{websocket.MessageText, `{"type":"command","line":"info"} {}`, wsproto.ErrBadJSON, "one JSON object per message"},
		{websocket.MessageText, `{"type":"subscribe"}`, wsproto.ErrUnknownType, `unknown message type "subscribe": clients send only "command"`},
		{websocket.MessageText, `{"line":"info"}`, wsproto.ErrUnknownType, `missing "type": send {"type":"command","line":"..."}`},
		{websocket.MessageText, `{"type":"command","line":""}`, wsproto.ErrBadCommand, "empty command line"},
		{websocket.MessageText, `{"type":"command","line":"rate 1\nstop"}`, wsproto.ErrBadCommand, "command line must be one line of text without control characters"},
		{websocket.MessageText, `{"type":"command","line":"stop"}`, wsproto.ErrCommandsDisabled, "commands are disabled on this server: start serve with --allow-commands"},
		{websocket.MessageBinary, "\x01\x01\x00\x00", wsproto.ErrBinary, `binary messages are not accepted from clients: send JSON text, e.g. {"type":"command","line":"info"}`},
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for i, c := range cases {
		if err := bad.conn.Write(ctx, c.typ, []byte(c.msg)); err != nil {
			t.Fatalf("write %q: %v", c.msg, err)
		}
		e := waitError(t, bad, i+1)
		if e.Code != c.code || c.text != "" && e.Message != c.text || e.Message == "" {
			t.Errorf("%q: got %s %q, want %s %q", c.msg, e.Code, e.Message, c.code, c.text)
		}
	}
	seq := srv.nextSeq(t)
	bad.waitSeq(t, seq, 5*time.Second) // still served after every error
	if err := bad.conn.Write(ctx, websocket.MessageText, []byte(`{"type":"command","line":"`+strings.Repeat("x", 5000)+`"}`)); err != nil {
		t.Fatalf("write oversize: %v", err)
	}
	if code, reason := bad.closeStatus(t, 5*time.Second); code != websocket.StatusMessageTooBig {
		t.Errorf("oversize message: connection ended with %d %q, want 1009", code, reason)
	}
	// serve counts the oversize client after the library has sent 1009.
	m := srv.waitMetric(t, "client_oversize_total", 1, 2*time.Second)
	if m["client_oversize_total"] != 1 || m["client_errors_total"] != float64(len(cases)) {
		t.Errorf("metrics: oversize %v (want 1), client errors %v (want %d)", m["client_oversize_total"], m["client_errors_total"], len(cases))
	}
	floodBadMessages(t, srv, 5000)
	srv.running(t)
	checkWitness(t, w, srv)
}

// floodBadMessages sends n malformed messages as fast as possible on a
// connection that never reads its error replies.
func floodBadMessages(t *testing.T, srv *serveRig, n int) {
	t.Helper()
	c, err := dialWS(srv.ws, bearer(abuseToken))
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	before := srv.metrics(t)["client_errors_total"]
	start := time.Now()
	for i := 0; i < n; i++ {
		if err := c.Write(ctx, websocket.MessageText, []byte(`{"type":`)); err != nil {
			t.Fatalf("flood message %d: %v", i, err)
		}
	}
	for deadline := time.Now().Add(5 * time.Second); srv.metrics(t)["client_errors_total"]-before < float64(n); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("serve answered %v of %d flooded bad messages within 5 s", srv.metrics(t)["client_errors_total"]-before, n)
		}
	}
	t.Logf("%d malformed messages from a client that never reads: all answered or counted in %v", n, time.Since(start).Round(time.Millisecond))
}

// waitError waits for the client's n-th error message.
func waitError(t *testing.T, r *wsRec, n int) wsproto.Error {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		if st := r.state(); len(st.Errs) >= n {
			return st.Errs[n-1]
		}
		if time.Now().After(deadline) {
			t.Fatalf("no error message #%d within 5 s", n)
		}
	}
}

// TestAbuseSlowHeaders: 30 raw TCP clients each send one byte of an HTTP
// request per second (slowloris). serve must cut each off once its headers
// have taken longer than 5 s (ReadHeaderTimeout), while a witness keeps
// receiving every frame.
func TestAbuseSlowHeaders(t *testing.T) {
	t.Parallel()
	srv := simServe(t, nil)
	w := dialRec(t, srv.ws, "binary", abuseFS, chainChans, nil)
	w.waitSeq(t, 0, 5*time.Second)
	const n = 30
	addr := strings.TrimPrefix(srv.base, "http://")
	var wg sync.WaitGroup
	cut := make(chan time.Duration, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() { defer wg.Done(); cut <- slowloris(addr, 12*time.Second) }()
	}
	wg.Wait()
	close(cut)
	var worst, best time.Duration = 0, time.Hour
	for d := range cut {
		worst, best = max(worst, d), min(best, d)
	}
	if worst > 8*time.Second || best < 4*time.Second {
		t.Errorf("slow-header clients cut off after %v..%v: want about 5 s (ReadHeaderTimeout), never more than 8 s", best, worst)
	}
	t.Logf("%d slowloris clients (1 header byte/s) cut off after %v..%v", n, best.Round(10*time.Millisecond), worst.Round(10*time.Millisecond))
	srv.running(t)
	if st := w.state(); len(st.Seqs) != 1 || len(st.Gaps) != 0 {
		t.Errorf("witness: frames %v gaps %v", st.Seqs, st.Gaps)
	}
	checkWitness(t, w, srv)
}

// slowloris sends "GET /ws HTTP/1.1\r\nHost: x\r\nX-a: ..." one byte per
// second until the server closes the connection, and returns how long the
// server took. It gives up after limit (and returns limit).
func slowloris(addr string, limit time.Duration) time.Duration {
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return 0
	}
	defer c.Close()
	closed := make(chan struct{})
	go func() {
		io.Copy(io.Discard, c) // returns when the server closes
		close(closed)
	}()
	req := "GET /ws HTTP/1.1\r\nHost: " + addr + "\r\nX-Slow: " + strings.Repeat("a", 64)
	start := time.Now()
	for i := 0; time.Since(start) < limit; i++ {
		if _, err := c.Write([]byte{req[i%len(req)]}); err != nil {
			break
		}
		select {
		case <-closed:
			return time.Since(start)
		case <-time.After(time.Second):
		}
	}
	select {
	case <-closed:
		return time.Since(start)
	case <-time.After(time.Second):
		return limit
	}
}
