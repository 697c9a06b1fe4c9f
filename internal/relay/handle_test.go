package relay

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestHandleGuards: a route mounted with Handle answers only with the
// token, only under a Host that names the server, and refuses a
// state-changing request from a page on another origin (CSRF) while a
// same-host page and --allow-origin hosts get through.
func TestHandleGuards(t *testing.T) {
	ch, base := testServer(t, Options{Token: "s3cret", AllowOrigin: []string{"lab.example"}})
	ch.srv.Handle("POST /api/x/{name}", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "did "+r.PathValue("name"))
	}))
	ch.srv.Handle("GET /api/x", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "list") }))
	host := strings.TrimPrefix(base, "http://")
	for _, c := range []struct {
		name, method, path, token, host, origin string
		code                                    int
		body                                    string
	}{
		{"no token", "POST", "/api/x/a", "", "", "", 401, "requires a token"},
		{"wrong token", "POST", "/api/x/a", "nope", "", "", 401, "wrong token"},
		{"token", "POST", "/api/x/a", "s3cret", "", "", 200, "did a"},
		{"same-host page", "POST", "/api/x/a", "s3cret", "", "http://" + host, 200, "did a"},
		{"allowed origin", "POST", "/api/x/a", "s3cret", "", "https://lab.example", 200, "did a"},
		{"foreign page", "POST", "/api/x/a", "s3cret", "", "https://evil.example", 403, "a page on https://evil.example cannot POST /api/x/a"},
		{"file page", "POST", "/api/x/a", "s3cret", "", "null", 403, "cannot POST"},
		{"foreign page may read", "GET", "/api/x", "s3cret", "", "https://evil.example", 200, "list"},
		{"rebinding host", "POST", "/api/x/a", "s3cret", "evil.example:1234", "", 421, "--allow-host evil.example"},
	} {
		t.Run(c.name, func(t *testing.T) {
			req, _ := http.NewRequest(c.method, base+c.path, nil)
			if c.token != "" {
				req.Header.Set("Authorization", "Bearer "+c.token)
			}
			if c.host != "" {
				req.Host = c.host
			}
			if c.origin != "" {
				req.Header.Set("Origin", c.origin)
			}
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != c.code || !strings.Contains(string(b), c.body) {
				t.Errorf("%s %s: %d %q, want %d containing %q", c.method, c.path, res.StatusCode, b, c.code, c.body)
			}
		})
	}
}
