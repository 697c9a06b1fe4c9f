// Package serve wires `wsbridge serve`: a capture.Capture (serial port or
// the in-process simulator) feeding a relay.Server (history hub, WebSocket
// and HTTP endpoints).
//
// Entry point: Run(ctx, Options) listens, prints one line with the page
// and stream URLs to Options.Out, and runs until ctx is cancelled; then
// every WebSocket client gets close 1001, the HTTP server shuts down and
// the port is released. DefaultOptions gives the documented defaults.
package serve
