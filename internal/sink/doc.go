// Package sink is the analysis-machine half of wsbridge: a WebSocket client
// of `wsbridge serve` that writes the live stream into a real serial port or
// a virtual one (a pty) where R, or anything that reads a serial port, picks
// it up as though the ESP32 were wired to this machine.
//
// Entry point: Run(ctx, Options) connects, reconnects forever with
// exponential backoff and jitter, resumes with ?since= so that a drop shorter
// than serve's history loses nothing, and accounts for every frame: gaps
// (announced by serve or seen in the sequence numbers) and drops (the output
// buffer was full) are counted and logged with exact ranges.
//
// Goroutines, one per blocking resource:
//   - the connection loop owns the WebSocket and the stream state (sequence
//     tracking, rendering); it pushes rendered chunks into a bounded queue;
//   - the writer owns the output port's writes and batches queued chunks;
//   - the upstream reader reads lines written into the port (by R) and sends
//     them to serve as commands;
//   - the status loop reports progress and drop incidents.
//
// See docs/sink.md for the user's view.
package sink
