// Package source defines what a source of frames is and runs many of them.
//
// The path of a sample through serve is
//
//	source -> channel (ring, seq and epoch) -> client cursor -> socket
//
// A Source is one device or feed: a serial port (package capture), the
// in-process simulator (Sim, here), a Wi-Fi board that publishes to serve
// or that serve dials (package ingest), a channel on the bus. It delivers
// what it reads to a Publisher, which is one channel of the hub
// (relay.Channel). Sources hand packets on as they read them; the channel
// alone classifies sequence numbers (gaps, duplicates, late frames,
// restarts) and owns the epoch.
//
// Entry points: the Source and Publisher interfaces; Sim; Supervisor,
// which runs N sources (each a Runner) with restart and backoff, one
// failing, panicking or absent device never touching the others, and
// with RequireAll or RequireNone deciding what a device that cannot start
// means; DecoderCounters and CommandCounters, the counters a serial-like
// source reports. The conformance suite every Source passes lives in
// source/sourcetest.
//
// Adding a kind of source is a new file here (or a package beside it)
// and nothing else moves.
package source
