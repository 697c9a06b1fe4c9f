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
//     system call (Cork, Uncork), reads and writes through the runtime's
//     poller with raw system calls on Linux (internal/pollio: no
//     entersyscall, so the runtime's monitor thread sleeps on), and notes
//     when a write completed after waiting for the peer to read
//     (Unblocked): a sign of life.
//   - Flow is application-level flow control: how many bytes a client may
//     have written but not confirmed (Window), confirmed by the pong to a
//     WebSocket ping, which a peer sends only after reading everything
//     before it. Flow.OnPong is the coder/websocket OnPongReceived
//     callback.
//   - Flow.Keep is the keepalive: a ping every interval (and at once on
//     Flow.Request), one at a time, and the live check that declares a
//     connection dead after DeadAfter ping intervals without a sign of
//     life. It runs from a timer, with a goroutine only while a ping waits
//     for its pong: an idle connection costs no parked goroutine for it.
//   - Lean wraps the upgrade's http.ResponseWriter: the hijacked
//     connection gets small bufio buffers instead of net/http's 4 KiB
//     ones, and (on a Listener's Conn) idle mode: Read returns ErrIdle
//     instead of blocking between messages, so that the reading goroutine
//     waits in Conn.WaitRead with a shallow stack (idle.go).
//
// Concurrency: a Conn's Write is safe for concurrent use (the writer,
// pings and close frames share it); Cork and Uncork belong to the one
// writer goroutine; Read and WaitRead to the one reading goroutine
// (coder/websocket's Close reads too: turn idle mode off with AllowIdle
// before it). Flow's methods are safe for concurrent use; Keep once, Stop
// any number of times.
package wsconn
