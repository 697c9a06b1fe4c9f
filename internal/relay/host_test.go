package relay

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// requestAs sends GET base+path with the Host and Origin a page on host
// would send; for /ws it asks for a WebSocket upgrade. It returns the
// status and body.
func requestAs(t *testing.T, base, path, host string) (int, string) {
	t.Helper()
	req, err := http.NewRequest("GET", base+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Host = host
	req.Header.Set("Origin", "http://"+host)
	if strings.HasPrefix(path, "/ws") {
		req.Header.Set("Connection", "Upgrade")
		req.Header.Set("Upgrade", "websocket")
		req.Header.Set("Sec-WebSocket-Version", "13")
		req.Header.Set("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")
	}
	client := &http.Client{Timeout: 5 * time.Second}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusSwitchingProtocols {
		return resp.StatusCode, ""
	}
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestHostRebinding sends what a DNS-rebinding page sends (Host and
// Origin naming the attacker's domain, resolved to 127.0.0.1) to a
// default loopback serve with commands on: every endpoint refuses it.
func TestHostRebinding(t *testing.T) {
	s, base := testServer(t, Options{AllowCommands: true})
	port := base[strings.LastIndex(base, ":")+1:]
	for _, p := range []string{"/", "/ws", "/api/info", "/metrics", "/healthz"} {
		code, body := requestAs(t, base, p, "attacker.example:"+port)
		if code != http.StatusMisdirectedRequest || !strings.Contains(body, "Host attacker.example:"+port+" is not a name of this server") ||
			!strings.Contains(body, "--allow-host attacker.example") {
			t.Errorf("%s as attacker.example: %d %q, want 421 naming --allow-host", p, code, body)
		}
	}
	if got := s.srv.stats.refusedHost.Load(); got != 5 {
		t.Errorf("refused-host counter %d, want 5", got)
	}
	for _, host := range []string{"127.0.0.1:" + port, "localhost:" + port, "LOCALHOST:" + port, "[::1]:" + port,
		"wsbridge.localhost:" + port, "127.0.0.1:9999", "localhost"} {
		if code, _ := requestAs(t, base, "/ws", host); code != http.StatusSwitchingProtocols {
			t.Errorf("/ws as %s: %d, want 101", host, code)
		}
		if code, _ := requestAs(t, base, "/api/info", host); code != http.StatusOK {
			t.Errorf("/api/info as %s: %d, want 200", host, code)
		}
	}
}

// TestAllowHost lets the names --allow-host names in, and only those.
func TestAllowHost(t *testing.T) {
	_, base := testServer(t, Options{AllowHost: []string{"sensors.lab.example", "*.rig.example"}})
	for host, want := range map[string]int{
		"sensors.lab.example":      200,
		"SENSORS.LAB.EXAMPLE:8443": 200,
		"a.rig.example":            200,
		"rig.example":              421,
		"lab.example":              421,
		"sensors.lab.example.evil": 421,
	} {
		if code, body := requestAs(t, base, "/api/info", host); code != want {
			t.Errorf("/api/info as %s: %d %q, want %d", host, code, body, want)
		}
	}
	_, base = testServer(t, Options{AllowHost: []string{"*"}})
	if code, _ := requestAs(t, base, "/api/info", "anything.example"); code != 200 {
		t.Errorf("--allow-host '*': %d, want 200", code)
	}
}

func TestHostCheckNames(t *testing.T) {
	lan := newHostCheck(nil, false)
	names := machineNames()
	if len(names) == 0 {
		t.Skip("no host name")
	}
	for _, n := range names {
		if !lan.allowed(n + ":8080") {
			t.Errorf("beyond loopback, this machine's name %q is refused", n)
		}
	}
	if lo := newHostCheck(nil, true); lo.allowed(names[0]+".evil") || lo.allowed("") {
		t.Error("loopback check allows foreign names")
	}
	o := DefaultOptions()
	o.AllowHost = []string{"[bad"}
	if err := o.Validate(); err == nil || !strings.Contains(err.Error(), `--allow-host "[bad" is not a valid host pattern`) {
		t.Errorf("bad pattern: %v", err)
	}
}
