// Package serve wires `wsbridge serve`: each configured device is a
// source (a serial port, capture.Capture, or the simulator, source.Sim)
// run by a source.Supervisor into its own relay.Channel of one
// relay.Server (history ring, WebSocket and HTTP endpoints):
//
//	source -> channel (ring) -> client cursor -> socket
//
// Entry points: Run(ctx, Options) listens, prints one line with the page
// and stream URLs to Options.Out once the devices have come up (or been
// reported down), and runs until ctx is cancelled; then every WebSocket
// client gets close 1001, the HTTP server shuts down and the ports are
// released. Check validates and probes without serving. Devices come from
// Options.Devices (ParseDevice for --device NAME=SPEC, ParseDevices for
// the config file's devices:), or are the one device of --port or --sim.
// DefaultOptions gives the documented defaults.
package serve
