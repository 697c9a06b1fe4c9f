package relay

import (
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
)

// TestPubRoute: /pub/NAME reaches the channel's Ingest handler with any
// token but the subscribers' (403: a subscriber cannot publish); a channel
// without one, or no channel, is 404 naming the config; Host is checked.
func TestPubRoute(t *testing.T) {
	var (
		mu  sync.Mutex // the handler runs on the server's goroutine; a response over TCP is no happens-before for the race detector
		got []string
	)
	_, base := testServer(t, Options{Token: "sub-secret"}, ChannelOptions{Name: "garden",
		Ingest: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			got = append(got, r.Header.Get("Authorization"))
			mu.Unlock()
			w.WriteHeader(http.StatusTeapot)
		})})
	for _, c := range []struct {
		path, auth, host string
		code             int
		says             string
	}{
		{"/pub/garden", "Bearer device-secret", "", http.StatusTeapot, ""},
		{"/pub/garden", "", "", http.StatusTeapot, ""}, // the device's handler decides
		{"/pub/garden", "Bearer sub-secret", "", http.StatusForbidden, "the subscribers' token cannot publish"},
		{"/pub/garden?token=sub-secret", "", "", http.StatusForbidden, "needs this device's own token"},
		{"/pub/mic", "Bearer device-secret", "", http.StatusNotFound, "no network channel mic"},
		{"/pub/garden", "Bearer device-secret", "attacker.example", http.StatusMisdirectedRequest, ""},
	} {
		req, _ := http.NewRequest("GET", base+c.path, nil)
		if c.auth != "" {
			req.Header.Set("Authorization", c.auth)
		}
		if c.host != "" {
			req.Host = c.host
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != c.code || !strings.Contains(string(body), c.says) {
			t.Errorf("%s (%q, host %q): %d %q, want %d saying %q", c.path, c.auth, c.host, resp.StatusCode, body, c.code, c.says)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if strings.Join(got, "|") != "Bearer device-secret|" {
		t.Fatalf("the ingest handler saw %q", got)
	}
}
