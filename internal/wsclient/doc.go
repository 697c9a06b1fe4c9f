// Package wsclient is the client side of a wsbridge WebSocket stream
// (docs/protocol.md): what `wsbridge sink` and `wsbridge record` share to
// read serve's /ws endpoints, and what the sink uses to read a board's own
// WebSocket server.
//
// It dials with a token (Authorization: Bearer) and a trusted CA, reads the
// hello, resumes with ?since=SEQ&epoch=E, keeps the connection alive with
// pings, reconnects with exponential backoff and jitter, and tells errors
// that heal by themselves (connection refused, timeouts, resets, HTTP 5xx,
// a full server) from errors that never will (a bad token, a certificate
// that is not trusted, a wrong path, a server that is not wsbridge): those
// end Run with an error wrapping ErrWillNotHeal, unless RetryForever.
//
// Entry points:
//   - ParseURL checks and normalises a --url ("add ws://" when it has no
//     scheme, /ws when it has no path).
//   - New(Options) returns a Client; Client.Run(ctx, Handler) connects and
//     reconnects until ctx ends, calling Handler.Serve with each open Conn
//     and asking Handler.Resume where to start; Client.Dial connects once.
//   - CheckResume tells from a hello whether the stream's count started over
//     (another epoch, or a start_seq lower than asked): a restart, never
//     duplicates.
//   - Permanent and the Err* sentinels classify errors.
//
// Concurrency: a Client's Run must be called once at a time; Client.Send may
// be called from any goroutine while Run runs. A Conn's Read must be called
// from one goroutine (the one Serve runs on); Write and Send may be called
// concurrently with Read. Cancelling the context given to Dial (or Run)
// closes the connection with status 1000 (a normal closure), which ends a
// pending Read.
package wsclient
