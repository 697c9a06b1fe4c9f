package cli

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wsbridge/wsbridge/internal/relay"
	"github.com/wsbridge/wsbridge/internal/testsupport"
)

// runServe runs `wsbridge serve args...` to completion (for errors).
func runServe(t *testing.T, args ...string) (string, int) {
	t.Helper()
	var errb strings.Builder
	err := Execute(context.Background(), append([]string{"serve", "--listen", "127.0.0.1:0"}, args...),
		Streams{In: strings.NewReader(""), Out: io.Discard, Err: &errb})
	code := ExitCode(err, &errb)
	return errb.String(), code
}

// The devices: block, with simulators in place of boards, serves
// three channels from the config file; each channel's stream is its own.
func TestServeDevicesFromConfig(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "serve.yaml")
	os.WriteFile(cfg, []byte(`devices:
  - name: mic
    sim: {signal: counter, rate: 16000, frame_samples: 160}
  - name: accel
    sim: {signal: counter, rate: 1000, sample_type: i32}
  - name: demo
    sim: {signal: counter, rate: 1000, channels: 2}
`), 0o600)
	s := startServe(t, "--config", cfg)
	base := s.URL
	var l relay.List
	testsupport.GetJSON(t, base+"/api/channels", &l)
	if len(l.Channels) != 3 || l.Channels[0].Name != "mic" || l.Channels[2].Name != "demo" {
		t.Fatalf("/api/channels: %+v", l)
	}
	c := testsupport.Dial(t, "ws"+strings.TrimPrefix(base, "http")+"/ws/demo", nil)
	if h := testsupport.ExpectHello(t, c); h.Channel != "demo" {
		t.Fatalf("hello %+v", h)
	}
	testsupport.WaitFor(t, 5*time.Second, "the three devices up", func() bool {
		resp, err := http.Get(base + "/healthz")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		var h relay.Health
		json.NewDecoder(resp.Body).Decode(&h)
		return h.DeviceState == "up" && len(h.Channels) == 3
	})
}

// What a user gets wrong about devices is exit 2 with the field at fault.
func TestServeDeviceErrors(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	os.WriteFile(bad, []byte("devices:\n  - name: mic\n    sim: {rate: fast}\n"), 0o600)
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"--config", bad}, 2, `devices[0].sim.rate: "fast": want a whole number from 0 to 4294967295 (line 3)`},
		{[]string{"--device", "mic=sim", "--port", "/dev/ttyUSB0"}, 2, "--port set the one device of --port or --sim, but devices are configured"},
		{[]string{"--device", "Mic=sim"}, 2, `--device Mic: name: "Mic"`},
		{[]string{"--device", "a=sim", "--device", "a=sim:rate=100"}, 2, `--device a: name: "a" is the name of --device a too`},
		{[]string{"--device", "mic=" + filepath.Join(t.TempDir(), "ttyNONE"), "--require-devices", "all"}, 3, "--device mic: "},
		{[]string{"--sim", "--require-devices", "some"}, 2, `--require-devices "some": want all`},
	} {
		out, code := runServe(t, c.args...)
		if code != c.code || !strings.Contains(out, c.want) {
			t.Errorf("serve %v: exit %d, printed %q; want exit %d with %q", c.args, code, out, c.code, c.want)
		}
	}
}
