package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/pem"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wsbridge/wsbridge/internal/testsupport"
	"github.com/wsbridge/wsbridge/internal/vport"
)

// runHealth runs `wsbridge health args...` and returns its output, error
// and exit code.
func runHealth(t *testing.T, args ...string) (string, int, error) {
	t.Helper()
	var out bytes.Buffer
	err := Execute(context.Background(), append([]string{"health"}, args...), Streams{In: strings.NewReader(""), Out: &out, Err: io.Discard})
	return out.String(), ExitCode(err, io.Discard), err
}

// startServe runs `wsbridge serve args...` on 127.0.0.1:0.
func startServe(t *testing.T, args ...string) *testsupport.Served {
	return testsupport.StartServe(t, func(ctx context.Context, out io.Writer) error {
		args := append([]string{"serve", "--listen", "127.0.0.1:0", "--log-level", "error"}, args...)
		return Execute(ctx, args, Streams{In: strings.NewReader(""), Out: out, Err: io.Discard})
	})
}

func TestHealthOfARealServe(t *testing.T) {
	s := startServe(t, "--sim")
	out, code, err := runHealth(t, "--url", s.URL+"/healthz", "--require-device")
	if want := "healthy: " + s.URL + "/healthz (device up; channels: sim up)\n"; code != 0 || out != want {
		t.Fatalf("health: exit %d (%v), printed %q, want %q", code, err, out, want)
	}
	out, code, err = runHealth(t, "--url", s.URL+"/healthz", "--json")
	if code != 0 || strings.Count(out, "\n") != 1 || !strings.HasPrefix(out, `{"status":"ok","device_state":"up"`) {
		t.Fatalf("health --json: exit %d (%v), printed %q, want the document on one line", code, err, out)
	}
}

// TestHealthRequireDeviceNoticesUnplug: the board goes away (issue 13.5:
// /healthz said ok and a container healthcheck never noticed). Without
// --require-device serve itself is healthy; with it, health fails.
func TestHealthRequireDeviceNoticesUnplug(t *testing.T) {
	link := filepath.Join(t.TempDir(), "ttyUSB0")
	dev, err := vport.Create(link)
	if err != nil {
		t.Fatal(err)
	}
	s := startServe(t, "--port", link)
	dev.Close() // unplugged
	url := s.URL + "/healthz"
	var herr error
	var code int
	if !testsupport.Within(5*time.Second, 20*time.Millisecond, func() bool {
		_, code, herr = runHealth(t, "--url", url, "--require-device")
		return code != 0
	}) {
		t.Fatal("health --require-device stayed healthy after the device was unplugged")
	}
	if code != 1 || !strings.Contains(herr.Error(), "unhealthy: serve runs but channel serial is down") || !strings.HasSuffix(herr.Error(), "(--require-device)") {
		t.Errorf("exit %d: %v", code, herr)
	}
	if _, code, err := runHealth(t, "--url", url); code != 0 {
		t.Errorf("without --require-device: exit %d (%v), want 0: serve itself runs", code, err)
	}
}

// TestHealthRefusesWhatIsNotServe: anything answering 200 was healthy
// (issue 13.5); a directory listing or another service's page is not.
func TestHealthRefusesWhatIsNotServe(t *testing.T) {
	listing := httptest.NewServer(http.FileServer(http.Dir(t.TempDir())))
	defer listing.Close()
	notFound := httptest.NewServer(http.NotFoundHandler())
	defer notFound.Close()
	cases := map[string]struct{ url, want string }{
		"directory listing": {listing.URL + "/", "answered 200 but not with wsbridge's health document ("},
		"404":               {notFound.URL + "/healthz", "answered 404 Not Found"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			out, code, err := runHealth(t, "--url", tc.url)
			if code != 1 || err == nil || !strings.Contains(err.Error(), tc.want) || out != "" {
				t.Errorf("exit %d, err %v, printed %q; want exit 1 with %q", code, err, out, tc.want)
			}
			if err != nil && strings.Contains(err.Error(), "<") {
				t.Errorf("the page was dumped: %v", err)
			}
		})
	}
}

func TestHealthCACert(t *testing.T) {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"status":"ok","device_state":"up"}`))
	}))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshake
	srv.StartTLS()
	defer srv.Close()
	_, code, err := runHealth(t, "--url", srv.URL+"/healthz")
	if code != ExitNetwork || !strings.Contains(err.Error(), "not trusted: pass serve's certificate with --ca-cert") {
		t.Errorf("self-signed without --ca-cert: exit %d, %v", code, err)
	}
	ca := filepath.Join(t.TempDir(), "ca.pem")
	os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600)
	if out, code, err := runHealth(t, "--url", srv.URL+"/healthz", "--ca-cert", ca, "--require-device"); code != 0 {
		t.Errorf("with --ca-cert: exit %d (%v), printed %q", code, err, out)
	}
}

func TestHealthChannelsDown(t *testing.T) {
	var old health // a serve from before channels
	jsonUnmarshal(`{"status":"ok","device_state":"down"}`, &old)
	if got := strings.Join(old.down(), "; "); got != "the device is down" {
		t.Errorf("without channels: %q", got)
	}
	for _, body := range []string{
		`{"status":"ok","device_state":"up","channels":{"mic":{"device_state":"up"},"acc":{"device_state":"down","device_reason":"unplugged"}}}`,
		`{"status":"ok","channels":[{"name":"mic","device_state":"up"},{"name":"acc","device_state":"down","device_reason":"unplugged"}]}`,
	} {
		var h health
		if err := jsonUnmarshal(body, &h); err != nil {
			t.Fatal(err)
		}
		if got := strings.Join(h.down(), "; "); got != "channel acc is down (unplugged)" {
			t.Errorf("%s: down = %q", body, got)
		}
	}
}

func jsonUnmarshal(s string, v any) error { return json.Unmarshal([]byte(s), v) }
