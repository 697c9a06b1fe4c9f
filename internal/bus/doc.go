// Package bus carries wsbridge channels over NATS JetStream, so that any
// serve on the bus can serve any channel on it: sites on other networks
// (a leaf node connects out through NAT), more readers than one machine
// can feed, history that outlives a serve.
//
// What a channel becomes on the bus (see Layout): its own stream
// <prefix>_<channel>, on the subject <prefix>.<site>.<channel>. Each
// message is one Event: what the origin channel classified (a data frame
// with its epoch, a device gap, a restart, up, down, device info, log
// and reply packets), with the device's (epoch, seq) and the epoch's
// first seq in headers. Frames are named (epoch, seq) for JetStream's
// de-duplication, and every message names the one before it, so a retry
// or a failover never stores an event twice or out of order. The stream
// sequence is not the device seq: a resume by (epoch, seq) is mapped to a
// stream sequence by a binary search over the stream (locate).
//
// Entry points:
//   - Dial connects (or keeps trying in the background: an unreachable bus
//     is a state, not an error); Conn.State, Conn.Counters.
//   - Conn.EnsureStream creates a channel's stream or checks the one there
//     (ErrNoJetStream, ErrPermission, ErrConflict, ErrTooOld).
//   - Conn.NewPublisher(channel, Log, settings).Run publishes a local
//     channel's events; Log is the read side of the channel's ring.
//   - Conn.NewFollower(channel, Start, Replica).Run follows a remote
//     channel into a Replica (the remote channel's ring): one ordered
//     consumer per channel per node, resuming by device position, turning
//     whatever the stream no longer holds into exact history gaps.
//   - Config is the `bus:` block of serve's configuration.
//
// Concurrency: a Conn is shared by all publishers and followers of a
// serve. Run methods are called once each and return when their context
// ends; State and Counters are safe at any time.
//
// Tests run real nats-server instances in process (package natstest): one
// node, a 3-node cluster with replicas 3, a hub with a leaf node; the
// conformance suite (suite_test.go) runs every case on each of them.
// docs/bus.md is the user's guide.
package bus
