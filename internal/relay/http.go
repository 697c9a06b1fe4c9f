package relay

import (
	"crypto/subtle"
	"fmt"
	"log"
	"net"
	"net/http"
	"net/url"
	"path"
	"strings"

	"github.com/rs/zerolog"
)

// routes mounts the endpoints. /ws, /api/* and /metrics need the token
// when one is set; / and /healthz never do.
func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	s.mux = mux // Handle mounts more (handle.go)
	mux.Handle("GET /ws", s.guard(http.HandlerFunc(s.serveWS)))
	mux.Handle("GET /ws/{name}", s.guard(http.HandlerFunc(s.serveWS)))
	mux.Handle("GET /api/info", s.guard(http.HandlerFunc(s.serveInfo)))
	mux.Handle("GET /api/channels", s.guard(http.HandlerFunc(s.serveList)))
	mux.Handle("GET /api/channels/{name}", s.guard(http.HandlerFunc(s.serveInfo)))
	mux.Handle("GET /metrics", s.guard(http.HandlerFunc(s.serveMetrics)))
	mux.HandleFunc("GET /healthz", s.serveHealth)
	mux.HandleFunc("GET /pub/{name}", s.servePub) // devices: their own token, checked by the channel's Ingest
	page := s.opts.Page
	if page == nil {
		page = http.HandlerFunc(servePlaceholder)
	}
	mux.Handle("/", page)
	return s.guardHost(mux)
}

// guard refuses requests without the right token (when one is set) with
// 401 and a message saying how to send it.
func (s *Server) guard(next http.Handler) http.Handler {
	if s.opts.Token == "" {
		return next
	}
	want := []byte(s.opts.Token)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, how := requestToken(r)
		if subtle.ConstantTimeCompare([]byte(got), want) == 1 {
			next.ServeHTTP(w, r)
			return
		}
		s.stats.refusedAuth.Add(1)
		msg := "unauthorized: this server requires a token: send the header \"Authorization: Bearer TOKEN\" or add ?token=TOKEN to the URL"
		if how != "" {
			msg = "unauthorized: wrong token in the " + how
		}
		s.opts.Log.Info().Str("client", r.RemoteAddr).Str("path", r.URL.Path).Msg(msg)
		w.Header().Set("WWW-Authenticate", `Bearer realm="wsbridge"`)
		http.Error(w, msg, http.StatusUnauthorized)
	})
}

// servePub hands a device connection for /pub/NAME to the channel's
// Ingest handler, after refusing the subscribers' token: a subscriber
// cannot publish.
func (s *Server) servePub(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	ch, ok := s.Channel(name)
	if !ok || ch.ingest == nil {
		http.Error(w, "not found: no network channel "+name+" (serve's config needs devices: - {name: "+name+", network: true, token: ...})",
			http.StatusNotFound)
		return
	}
	if got, _ := requestToken(r); s.opts.Token != "" && subtle.ConstantTimeCompare([]byte(got), []byte(s.opts.Token)) == 1 {
		s.stats.refusedAuth.Add(1)
		msg := "forbidden: the subscribers' token cannot publish: /pub/" + name + " needs this device's own token"
		s.opts.Log.Info().Str("client", r.RemoteAddr).Str("path", r.URL.Path).Msg(msg)
		http.Error(w, msg, http.StatusForbidden)
		return
	}
	ch.ingest.ServeHTTP(w, r)
}

// requestToken returns the token the request carries and where it found it.
func requestToken(r *http.Request) (token, where string) {
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, tok, _ := strings.Cut(h, " ")
		if strings.EqualFold(scheme, "Bearer") {
			return strings.TrimSpace(tok), "Authorization header"
		}
		return "", "Authorization header (want \"Bearer TOKEN\")"
	}
	if q := r.URL.Query(); q.Has("token") {
		return q.Get("token"), "token query parameter"
	}
	return "", ""
}

// checkOrigin allows requests without Origin (non-browser clients), from
// the same host, or from a host matching an --allow-origin pattern.
func checkOrigin(r *http.Request, patterns []string) error {
	origin := r.Header.Get("Origin")
	if origin == "" || origin == "file://" {
		// arduinoWebSockets, the client most ESP32 sketches use, sends
		// "Origin: file://" on every connection; no browser does (a page
		// opened from a file sends "Origin: null", which stays refused).
		return nil
	}
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" {
		return fmt.Errorf("forbidden: Origin %q is not a valid URL", origin)
	}
	if strings.EqualFold(u.Host, r.Host) {
		return nil
	}
	for _, p := range patterns {
		target := u.Host
		if strings.Contains(p, "://") {
			target = u.Scheme + "://" + u.Host
		}
		if ok, _ := path.Match(strings.ToLower(p), strings.ToLower(target)); ok {
			return nil
		}
	}
	return fmt.Errorf("forbidden: Origin %s is not allowed to open a WebSocket on %s: serve allows pages from the same host; add --allow-origin %s to allow it", origin, r.Host, u.Host)
}

func checkOriginPatterns(patterns []string) error {
	for _, p := range patterns {
		if _, err := path.Match(p, ""); err != nil || p == "" {
			return optionsErr("--allow-origin %q is not a valid host pattern (path.Match syntax, e.g. \"*.example.com\")", p)
		}
	}
	return nil
}

func servePlaceholder(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/" {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	fmt.Fprint(w, `<!doctype html><meta charset="utf-8"><title>wsbridge</title>
<h1>wsbridge</h1><p>The live page is not built into this binary yet.
Streams: <code>/ws/NAME</code> (binary v1 frames; <code>?format=json</code> or <code>csv</code> for text),
channels: <a href="/api/channels">/api/channels</a>, health: <a href="/healthz">/healthz</a>, metrics: <a href="/metrics">/metrics</a>.</p>
`)
}

// baseURL is the URL clients use for addr. An unspecified address
// (0.0.0.0, ::) is shown as 127.0.0.1.
func baseURL(addr net.Addr, tls bool) string {
	scheme := "http"
	if tls {
		scheme = "https"
	}
	host, port, err := net.SplitHostPort(addr.String())
	if err != nil {
		return scheme + "://" + addr.String()
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	return scheme + "://" + net.JoinHostPort(host, port)
}

// WSURL turns a base URL from Listen into the /ws URL.
func WSURL(base string) string {
	return "ws" + strings.TrimPrefix(base, "http") + "/ws"
}

// warnExposure logs loudly when the server is reachable beyond this
// machine without a token.
func (s *Server) warnExposure(addr net.Addr) {
	if s.opts.Token != "" || isLoopback(addr) {
		return
	}
	s.opts.Log.Warn().Str("listen", addr.String()).Msg("!!! serve is reachable from the network WITHOUT A TOKEN: anyone who can reach " +
		addr.String() + " can read the stream. Set --token (or WSBRIDGE_TOKEN), or listen on 127.0.0.1")
	if s.opts.AllowCommands {
		s.opts.Log.Warn().Msg("--allow-commands without --token beyond loopback: commands are refused until a token is set")
	}
}

func isLoopback(addr net.Addr) bool {
	tcp, ok := addr.(*net.TCPAddr)
	return ok && tcp.IP.IsLoopback()
}

// newHTTPErrorLog routes net/http's own messages (TLS handshake errors
// and the like) to the diagnostics logger at debug level.
func newHTTPErrorLog(l zerolog.Logger) *log.Logger {
	return log.New(zerologWriter{l}, "", 0)
}

type zerologWriter struct{ l zerolog.Logger }

func (z zerologWriter) Write(p []byte) (int, error) {
	z.l.Debug().Msg(strings.TrimSpace(string(p)))
	return len(p), nil
}
