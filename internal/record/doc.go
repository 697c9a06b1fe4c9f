// Package record is `wsbridge record`: a WebSocket client of one or more
// serve streams that writes what arrives to files a model pipeline reads:
// WAV for audio-like streams, CSV (device time per row) otherwise, and a
// JSON sidecar per file (Sidecar) with the device, the epoch and seq
// range, every gap with its range and reason, and the user's labels.
//
// Entry point: Run(ctx, Options). Per URL, one goroutine owns the
// WebSocket (conn: connect, resume with ?since=&epoch=, backoff) and hands
// events to the stream's writer goroutine, which owns the files (track:
// sequence accounting, --on-gap, rotation; segment: one file and its
// sidecar; wavWriter, csvWriter). The writer flushes every FlushInterval:
// data first, then the WAV header sizes and the sidecar, so a file is
// always readable, even while being written or after a crash.
//
// See docs/record.md for the user's view.
package record
