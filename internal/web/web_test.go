package web

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func get(t *testing.T, h http.Handler, method, path string, hdr map[string]string) *http.Response {
	t.Helper()
	r := httptest.NewRequest(method, path, nil)
	for k, v := range hdr {
		r.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w.Result()
}

func TestHandlerServesPageAndAssets(t *testing.T) {
	h := Handler()
	cases := []struct{ path, ctype, contains string }{
		{"/", "text/html; charset=utf-8", `<script type="module" src="/js/app.js">`},
		{"/index.html", "text/html; charset=utf-8", "<canvas id=\"plot\""},
		{"/style.css", "text/css; charset=utf-8", "prefers-color-scheme: dark"},
		{"/js/app.js", "text/javascript; charset=utf-8", "window.wsbridge"},
		{"/js/packet.js", "text/javascript; charset=utf-8", "0x82f63b78"},
		{"/favicon.svg", "image/svg+xml", "<svg"},
	}
	for _, c := range cases {
		res := get(t, h, http.MethodGet, c.path, nil)
		body, _ := io.ReadAll(res.Body)
		if res.StatusCode != 200 {
			t.Fatalf("GET %s: status %d, want 200", c.path, res.StatusCode)
		}
		if got := res.Header.Get("Content-Type"); got != c.ctype {
			t.Errorf("GET %s: Content-Type %q, want %q", c.path, got, c.ctype)
		}
		if !strings.Contains(string(body), c.contains) {
			t.Errorf("GET %s: body lacks %q", c.path, c.contains)
		}
		if csp := res.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") {
			t.Errorf("GET %s: CSP %q lacks script-src 'self'", c.path, csp)
		}
		if res.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("GET %s: no nosniff header", c.path)
		}
	}
}

func TestHandlerCSPAllowsSameHostWebSocket(t *testing.T) {
	res := get(t, Handler(), http.MethodGet, "/", nil) // httptest host: example.com
	csp := res.Header.Get("Content-Security-Policy")
	if !strings.Contains(csp, "connect-src 'self' ws://example.com wss://example.com;") {
		t.Fatalf("CSP %q does not allow ws and wss to the page's host", csp)
	}
}

func TestHandlerRefusesOtherPathsAndMethods(t *testing.T) {
	h := Handler()
	for _, p := range []string{"/nope", "/static/index.html", "/js/", "/js/../index.html", "/ws"} {
		if res := get(t, h, http.MethodGet, p, nil); res.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s: status %d, want 404", p, res.StatusCode)
		}
	}
	res := get(t, h, http.MethodPost, "/", nil)
	if res.StatusCode != http.StatusMethodNotAllowed || res.Header.Get("Allow") != "GET, HEAD" {
		t.Errorf("POST /: status %d Allow %q, want 405 and GET, HEAD", res.StatusCode, res.Header.Get("Allow"))
	}
}

func TestHandlerETagRevalidates(t *testing.T) {
	h := Handler()
	first := get(t, h, http.MethodGet, "/js/app.js", nil)
	etag := first.Header.Get("ETag")
	if etag == "" || first.Header.Get("Cache-Control") != "no-cache" {
		t.Fatalf("ETag %q, Cache-Control %q: want an ETag and no-cache", etag, first.Header.Get("Cache-Control"))
	}
	again := get(t, h, http.MethodGet, "/js/app.js", map[string]string{"If-None-Match": etag})
	if again.StatusCode != http.StatusNotModified {
		t.Fatalf("conditional GET: status %d, want 304", again.StatusCode)
	}
}

func TestPathsListsEveryAsset(t *testing.T) {
	want := []string{"/", "/favicon.svg", "/index.html", "/js/app.js", "/js/chan.js", "/js/conn.js", "/js/csv.js", "/js/cursor.js",
		"/js/fft.js", "/js/gaps.js", "/js/overview.js", "/js/packet.js", "/js/plot.js", "/js/record.js", "/js/ring.js", "/js/scale.js",
		"/js/stream.js", "/js/ui.js", "/style.css"}
	got := Paths()
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("Paths() = %v\nwant %v", got, want)
	}
}
