// Package source defines what a source of frames is and runs many of them.
//
// The path of a sample through serve is
//
//	source -> channel (ring, seq and epoch) -> client cursor -> socket
//
// A Source is one device or feed: a serial port (capture), the in-process
// simulator, a Wi-Fi board that publishes to serve or that serve dials, a
// channel on the bus. It delivers what it reads to a Publisher, which is
// one channel of the hub (relay.Channel). Sources hand packets on as they
// read them; the channel alone classifies sequence numbers (gaps,
// duplicates, late frames, restarts) and owns the epoch.
//
// Entry points: the Source and Publisher interfaces; Supervisor (runs N
// sources with restart and backoff). The conformance suite every Source
// passes lives in source/sourcetest.
//
// Adding a kind of source is a new file here (or a package beside it)
// and nothing else moves.
package source
