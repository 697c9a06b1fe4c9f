// Package ingest is how devices on the network get their data into
// wsbridge: the message side of the `/pub/<name>` endpoint that Wi-Fi
// boards publish to, of boards that serve their own WebSocket (serve's
// `pull:` devices, `sink --url ws://board:81/`), and the device's resend
// ring. docs/protocol.md ("Wi-Fi devices") specifies the protocol.
//
// Entry points:
//
//   - Network is the source of a channel whose device connects to serve
//     and publishes on /pub/<name>: token, boot id, the greeting, one
//     publisher at a time (a silent one replaced), pings, refusals closed
//     with their code and reason, commands as text messages.
//   - A publisher's connection is RFC 6455 of our own once
//     coder/websocket's Accept has done the handshake (pubconn.go): the
//     session reads up to 8 kB at a time, whatever the connection is
//     (serve's *wsconn.Conn with raw system calls on Linux, TLS, a test
//     server's), and wsParser (wsparse.go), an incremental parser that
//     is pushed bytes and returns every whole message in them (a message
//     whole in one read unmasked in place, not copied), checks the
//     client's framing: a violation closes with 1002 (1007 for a close
//     reason that is not UTF-8) and counts as refused "protocol", a
//     message over MaxMessage is refused too_big (1009). Pings are
//     answered, pongs end the pinger's and the busy probe's wait, a close
//     frame is answered with its code. wsWriter (wswrite.go) writes every
//     frame serve sends: the greeting, commands, pings, pongs and close
//     frames (4009 busy, refusals, 1001 going away).
//     Concurrency: one goroutine, the session's, reads (and alone sees
//     pongs); the writer, the ping and the close are safe from any
//     goroutine, one frame at a time under one mutex, nothing after a
//     close frame; cutting the connection is idempotent and ends a read
//     in progress. The session flushes its channel's held writes
//     (relay.Channel.Hold, Flush) before each read, that is with every
//     message of the previous read published.
//   - pubLoop (publoop_linux.go) is that one goroutine for every /pub
//     connection that is TCP on Linux (not TLS): the connections sit,
//     level-triggered, in an epoll set of its own whose descriptor the
//     runtime's poller watches; a round is epoll_wait without waiting and
//     one read per ready connection, so a message costs no read that
//     finds nothing (EAGAIN) and no goroutine wake-up. The loop decodes
//     data messages, takes in pongs and flushes the channel after each
//     read; anything else (a ping to answer, a close frame, a refusal, the
//     connection's end) it hands to the session's goroutine, which reads
//     on its own until its buffer is used up and then registers again.
//     Concurrency: the session's reading side (its pubConn's buffer and
//     parser, the decoder's calls) belongs to the loop while registered
//     and to the session's goroutine otherwise, handed over under the
//     registration's mutex and its channel; a session whose context ends
//     takes its connection back before anything closes it. The loop's
//     goroutine starts with the first registration and lives as long as
//     the process, parked in the poller while no publisher sends.
//   - Pull is the source of a channel whose device runs its own WebSocket
//     server: serve dials it, with backoff and jitter.
//   - Decoder turns WebSocket messages into frame.Packets: binary messages
//     holding one v1 packet without COBS, text lines of numbers or the
//     Serial Plotter form, and JSON such as {"value": 1234}. A message it
//     refuses is a *MessageError with the close code and the one-line
//     reason to send the device.
//   - Greeting is serve's first message to a publisher: the channel's epoch
//     and the last seq serve has from this run of the device. ParseGreeting
//     reads it on the device side.
//   - Ring is the device's resend ring: its recent data frames in a fixed
//     block of memory, which is also its send queue. Ring.Resume applies
//     the resend rule to a greeting. The C ring in
//     firmware-ref/wsbridge_device.h follows the same algorithm, checked
//     against this one by the conformance tests.
//
// The table of good and bad messages every decoder must agree on, with the
// error each bad one produces, is ingesttest.Messages.
package ingest
