// Package wsconn is the per-connection machinery under a server's
// WebSocket clients: what makes one connection cheap at high frame rates
// and honest about a slow or dead peer. It knows nothing of channels or
// frames.
//
// Entry points:
//
//   - Listener wraps a net.Listener so that every accepted connection is a
//     *Conn; WithConn (http.Server.ConnContext) and FromContext find it
//     again from a request. A Conn gathers the writes of a batch into one
//     system call (Cork, Uncork), writes through the runtime's poller with
//     raw system calls on Linux, and notes when a write completed after
//     waiting for the peer to read (Unblocked): a sign of life.
//   - Flow is application-level flow control: how many bytes a client may
//     have written but not confirmed (Window), confirmed by the pong to a
//     WebSocket ping, which a peer sends only after reading everything
//     before it. Flow.PingLoop sends the pings; Flow.OnPong is the
//     coder/websocket OnPongReceived callback.
//   - Watch waits until a connection has shown no sign of life for
//     DeadAfter ping intervals.
//
// Concurrency: a Conn's Write is safe for concurrent use (the writer,
// pings and close frames share it); Cork and Uncork belong to the one
// writer goroutine. Flow's methods are safe for concurrent use.
package wsconn
