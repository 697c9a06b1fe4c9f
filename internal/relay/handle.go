package relay

import (
	"fmt"
	"net/http"
)

// Handle mounts h at pattern, a net/http ServeMux pattern such as
// "POST /api/channels/{name}/record", behind the guards of /api: the Host
// check, the token (when one is set) and, for every method but GET and
// HEAD, the Origin check the WebSockets get, so that a page on another
// site cannot drive it through a user's browser (CSRF). serve mounts its
// recorder's endpoints with it (internal/recordings). Safe to call while
// serving; like http.ServeMux.Handle it panics on a pattern that
// conflicts with one already mounted.
func (s *Server) Handle(pattern string, h http.Handler) {
	s.mux.Handle(pattern, s.guard(s.guardOrigin(h)))
}

// guardOrigin refuses a request that changes state (not GET or HEAD)
// from a page on another origin with 403 and the reason.
func (s *Server) guardOrigin(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			if checkOrigin(r, s.opts.AllowOrigin) != nil {
				origin := r.Header.Get("Origin")
				msg := fmt.Sprintf("forbidden: a page on %s cannot %s %s: serve takes such requests from its own pages (same host) "+
					"and from hosts given to --allow-origin", origin, r.Method, r.URL.Path)
				s.opts.Log.Warn().Str("client", r.RemoteAddr).Str("path", r.URL.Path).Str("origin", origin).Msg(msg)
				http.Error(w, msg, http.StatusForbidden)
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}
