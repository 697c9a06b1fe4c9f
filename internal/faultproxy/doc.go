// Package faultproxy is a fault-injecting TCP proxy on loopback, for tests
// that must prove a client and a server survive a bad network: the link
// between `wsbridge sink` and `wsbridge serve` in internal/e2e.
//
// Entry point: New(target) listens on 127.0.0.1:0 and forwards every
// accepted connection to target. The test then injects faults while
// traffic flows:
//
//   - Cut closes every current connection, with FIN (CutFIN, an orderly
//     close) or RST (CutRST, SO_LINGER 0: what a crashed host or a NAT
//     timeout looks like).
//   - Stall holds all traffic (existing and new connections) until Resume;
//     nothing is lost, it arrives late: a Wi-Fi hiccup.
//   - HalfOpen turns every current connection into a black hole: the proxy
//     stops reading and forwarding in both directions and never sends FIN
//     or RST. Peers see silence, as when a laptop sleeps or a cable is
//     pulled mid-route; only pings and read deadlines can detect it. New
//     connections are forwarded normally.
//   - SetRate caps the bandwidth of each direction (bytes per second,
//     shared by all connections).
//   - Refuse makes new connections fail at once (accepted then reset).
//
// Concurrency: every method is safe for concurrent use. Whoever calls New
// must Close; Close is idempotent and closes every connection.
package faultproxy
