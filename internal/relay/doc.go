// Package relay is the network half of `wsbridge serve`: a fan-out hub
// with a history ring, and the HTTP server around it (/ws, /, /healthz,
// /api/info, /metrics).
//
// Entry points: New(Options) builds a Server; the capture side feeds it
// with Server.Packet (decoded packets), Server.DeviceUp and
// Server.DeviceDown from one producer goroutine; Server.Listen then
// Server.Serve (or Server.Run) serve until the context is cancelled.
//
// Fan-out: every data frame is copied once into the history ring, which
// holds --history of sample time (and at most --history-bytes). Each
// WebSocket client is a cursor into the ring with its own writer
// goroutine, so the producer never waits for a client and memory is
// bounded by the ring, not by the number of clients. JSON and CSV
// renderings are made on first request and cached in the ring entry.
// The hub tracks sequence numbers itself (frame.SeqTracker): device gaps
// and restarts become messages in the ring stream, in order with the
// frames, so resuming clients (?since=SEQ) see them too.
//
// docs/serve.md documents the flags, endpoints, messages and policies.
package relay
