// Package relay is the network half of `wsbridge serve`: a registry of
// named channels, each a fan-out hub with a history ring, and the HTTP
// server around them (/ws/NAME, /, /healthz, /api/channels, /metrics).
//
// The path of a sample: source -> channel (ring) -> client cursor -> socket.
//
// Entry points: New(Options) builds a Server; Server.AddChannel adds a
// Channel, which implements source.Publisher: its source feeds it with
// Packet (decoded packets), Up and Down from one producer goroutine.
// Server.Listen then Server.Serve (or Server.Run) serve until the context
// is cancelled.
//
// Fan-out: every data frame is copied once into its channel's history
// ring, which holds --history of sample time (and at most --history-bytes
// of memory, renderings included). Each WebSocket client is a cursor into
// one channel's ring with its own writer goroutine, so the producer never
// waits for a client and memory is bounded by the rings, not by the number
// of clients. A frame that finds a few of them caught up and parked is
// written to those by the producer itself, with non-blocking writes
// (inline.go; Channel.Hold and Flush for a source that reads bursts). JSON and CSV renderings are made on first request and cached
// in the ring entry.
//
// Envelope streams (/ws/NAME?envelope=N, envelope.go): the channel cuts
// its frames into batches (about 30 a second); an envelope client reads
// the ring like any other, but sends, per closed batch, the min and max of
// every N sample instants, computed once per batch and level on first
// request and cached with the batch like a JSON rendering. Gaps, statuses
// and messages reach it as they reach full-rate clients, in the same
// places.
//
// Sequence numbers have one owner, the channel: it classifies each data
// frame's seq (in order, gap, duplicate, late, restart), names each count
// with an epoch, and puts device gaps and restarts into the ring stream in
// order with the frames, so resuming clients (?since=SEQ&epoch=E) see them
// too.
//
// docs/serve.md documents the flags, endpoints, messages and policies.
package relay
