// Package web holds the live view: a hand-written page (HTML, CSS and plain
// ES modules, no third-party code, no build step) embedded in the binary and
// served by `wsbridge serve` at /.
//
// The page connects to /ws on the same host (ws: or wss: following the
// page's own scheme), decodes the v1 binary frames (checking the CRC-32C),
// handles the JSON text messages of package wsproto and plots every channel
// as a scrolling min/max envelope, or as a spectrum. docs/page.md describes
// what it shows, its controls and how it stays smooth at high rates.
//
// Entry point: Handler, an http.Handler for the static assets, safe for
// concurrent use. The relay mounts it at /; it answers only GET and HEAD and
// returns 404 for anything it does not hold, so the relay's own endpoints
// (/ws, /api/..., /healthz, /metrics) must be routed before it.
package web
