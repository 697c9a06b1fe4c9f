// Package recordings is serve's own recorder, driven over HTTP (and so
// from the live page's record button): `serve --record-dir DIR` records a
// channel into DIR on request, with every guarantee of `wsbridge record`
// (package record): WAV headers valid at every moment, every gap in the
// sidecar, rotation, a clean close. Each recording is a record.Run that
// reads the channel's own stream over loopback (ws://127.0.0.1:PORT/ws/NAME
// with serve's token), exactly as `wsbridge record --url` on the same
// machine would.
//
// Entry points: New(Options) returns a Manager; Manager.Mount puts its
// endpoints on a relay.Server (behind the Host check, the token and, for
// requests that change state, the Origin check); Manager.Start and
// Manager.Stop start and stop a channel's recording; Manager.List lists
// them; Manager.Close stops every recording cleanly at shutdown and says
// what it stopped. Without a directory (Options.Dir "") the Manager is
// disabled: the endpoints answer 403 saying how to enable it, and the
// list says enabled: false.
//
// Concurrency: every Manager method is safe for concurrent use. One
// goroutine per recording runs record.Run; Close stops them all and waits
// for every file to be closed, and is idempotent. docs/record.md ("From
// the page") and docs/serve.md describe the endpoints.
package recordings
