package relay

import (
	"net"
	"net/http"
	"os"
	"path"
	"strings"
	"sync"
)

// hostCheck defends against DNS rebinding: a page on attacker.example
// whose name later resolves to this machine sends requests with
// "Host: attacker.example:PORT" and a matching Origin, so the Origin check
// alone lets it in. Every request's Host must name this server:
//
//   - an IP address literal (a rebinding attack needs a DNS name);
//   - localhost or a name under .localhost (browsers resolve these to
//     loopback themselves);
//   - when serve listens beyond loopback, this machine's host name (also
//     its short form and NAME.local);
//   - a name matching an --allow-host pattern ("*" allows any).
//
// The port is not compared: an attacker picks the same port anyway, and
// users reach serve through ssh -L tunnels and proxies on other ports.
type hostCheck struct {
	any      bool
	names    map[string]bool // lower-case host names allowed exactly
	patterns []string        // lower-case path.Match patterns
}

// newHostCheck builds the check for a server listening on addr.
func newHostCheck(allow []string, loopback bool) *hostCheck {
	hc := &hostCheck{names: map[string]bool{"localhost": true}}
	for _, p := range allow {
		p = strings.ToLower(strings.TrimSpace(p))
		if p == "*" {
			hc.any = true
		}
		hc.patterns = append(hc.patterns, p)
	}
	if !loopback {
		for _, n := range machineNames() {
			hc.names[n] = true
		}
	}
	return hc
}

// machineNames are the names this machine answers to on a LAN.
var machineNames = sync.OnceValue(func() []string {
	h, err := os.Hostname()
	if err != nil || h == "" {
		return nil
	}
	h = strings.ToLower(strings.TrimSuffix(h, "."))
	short, _, _ := strings.Cut(h, ".")
	return []string{h, short, short + ".local"}
})

// allowed reports whether the request's Host header names this server.
func (hc *hostCheck) allowed(hostport string) bool {
	if hc.any {
		return true
	}
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	host = strings.ToLower(strings.TrimSuffix(strings.Trim(host, "[]"), "."))
	switch {
	case host == "":
		return false
	case net.ParseIP(host) != nil, hc.names[host], strings.HasSuffix(host, ".localhost"):
		return true
	}
	for _, p := range hc.patterns {
		if ok, _ := path.Match(p, host); ok {
			return true
		}
	}
	return false
}

// guardHost answers requests whose Host does not name this server with
// 421 Misdirected Request and a message naming --allow-host.
func (s *Server) guardHost(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hc := s.hosts.Load()
		if hc == nil || hc.allowed(r.Host) {
			next.ServeHTTP(w, r)
			return
		}
		s.stats.refusedHost.Add(1)
		s.opts.Log.Warn().Str("client", r.RemoteAddr).Str("host", r.Host).Str("path", r.URL.Path).
			Msg("request refused: its Host header does not name this server (DNS rebinding?); add --allow-host if this name is yours")
		http.Error(w, "misdirected request: Host "+r.Host+" is not a name of this server. "+
			"If you reach serve under this name (a proxy, a DNS name of your own), start serve with --allow-host "+hostOnly(r.Host), http.StatusMisdirectedRequest)
	})
}

func hostOnly(hostport string) string {
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		return h
	}
	return hostport
}

func checkHostPatterns(patterns []string) error {
	for _, p := range patterns {
		if _, err := path.Match(p, ""); err != nil || strings.TrimSpace(p) == "" {
			return optionsErr("--allow-host %q is not a valid host pattern (path.Match syntax, e.g. \"*.lab.example\", or \"*\" for any)", p)
		}
	}
	return nil
}
