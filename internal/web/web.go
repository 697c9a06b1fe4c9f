package web

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"slices"
	"strings"
	"time"
)

//go:embed static
var staticFS embed.FS

// asset is one embedded file, ready to serve.
type asset struct {
	name  string
	body  []byte
	etag  string
	ctype string
}

var assets = loadAssets()

// loadAssets reads every embedded file once and computes its ETag.
func loadAssets() map[string]*asset {
	sub, err := fs.Sub(staticFS, "static")
	if err != nil {
		panic(err) // the embed directive guarantees the directory
	}
	m := map[string]*asset{}
	err = fs.WalkDir(sub, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(sub, p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		m["/"+p] = &asset{name: path.Base(p), body: b,
			etag: `"` + hex.EncodeToString(sum[:8]) + `"`, ctype: contentType(p)}
		return nil
	})
	if err != nil {
		panic(err)
	}
	return m
}

func contentType(p string) string {
	switch path.Ext(p) {
	case ".js":
		return "text/javascript; charset=utf-8"
	case ".html":
		return "text/html; charset=utf-8"
	case ".css":
		return "text/css; charset=utf-8"
	case ".svg":
		return "image/svg+xml"
	}
	if t := mime.TypeByExtension(path.Ext(p)); t != "" {
		return t
	}
	return "application/octet-stream"
}

// Handler serves the live view: / is the page, the rest its assets. It is
// safe for concurrent use and answers 405 to anything but GET and HEAD.
func Handler() http.Handler { return http.HandlerFunc(serveAsset) }

// Paths lists the URL paths Handler serves, sorted, for routers and tests.
func Paths() []string {
	out := make([]string, 0, len(assets)+1)
	out = append(out, "/")
	for p := range assets {
		out = append(out, p)
	}
	slices.Sort(out)
	return out
}

func serveAsset(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	p := r.URL.Path
	if p == "/" {
		p = "/index.html"
	}
	a, ok := assets[p]
	if !ok || strings.Contains(p, "..") {
		http.NotFound(w, r)
		return
	}
	h := w.Header()
	setSecurityHeaders(h, r.Host)
	h.Set("Content-Type", a.ctype)
	h.Set("Cache-Control", "no-cache")
	h.Set("ETag", a.etag)
	http.ServeContent(w, r, a.name, time.Time{}, bytes.NewReader(a.body))
}

// setSecurityHeaders restricts the page to its own assets and to WebSocket
// connections back to the host that served it.
func setSecurityHeaders(h http.Header, host string) {
	connect := "'self'"
	if host != "" && !strings.ContainsAny(host, " ;,'\"") {
		connect += " ws://" + host + " wss://" + host
	}
	h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; "+
		"img-src 'self' data: blob:; connect-src "+connect+"; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Frame-Options", "DENY")
}
