package wsconn

import (
	"bufio"
	"net"
	"net/http"
)

// Sizes of the buffers a Lean response writer's Hijack hands over.
const (
	// leanRead holds a pong or a short command whole; larger messages
	// are read straight into the reader's own buffer.
	leanRead = 512
	// leanWrite holds a control frame whole (at most 2+125 bytes), so a
	// ping, pong or close is one write. Data messages go through it into
	// a corked Conn, which gathers the batch: a small buffer costs a
	// copy into the cork, not a system call.
	leanWrite = 256
)

// Lean wraps a response writer for a WebSocket upgrade of a server that
// writes through a corked Conn and reads little from its clients.
// coder/websocket keeps the bufio reader and writer that Hijack returns
// for the connection's life; net/http's are 4 KiB each. Lean's Hijack
// returns buffers of a few hundred bytes instead, 7.5 kB less per
// connection, and puts a Conn in idle mode (AllowIdle), unless net/http's
// reader already holds bytes of the client (then that reader is kept, and
// the connection reads as usual).
func Lean(w http.ResponseWriter) http.ResponseWriter {
	hj, ok := w.(http.Hijacker)
	if !ok {
		return w
	}
	return leanWriter{w, hj}
}

type leanWriter struct {
	http.ResponseWriter
	hj http.Hijacker
}

// Hijack takes over the connection with small buffers.
func (l leanWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	c, brw, err := l.hj.Hijack()
	if err != nil {
		return c, brw, err
	}
	r := brw.Reader
	if r.Buffered() == 0 { // else keep it, with the client's bytes it holds
		r = bufio.NewReaderSize(c, leanRead)
		if wc, ok := c.(*Conn); ok {
			wc.trackFrames() // every byte of the WebSocket stream passes through it
		}
	}
	return c, bufio.NewReadWriter(r, bufio.NewWriterSize(c, leanWrite)), nil
}

// Unwrap lets http.ResponseController reach the original writer.
func (l leanWriter) Unwrap() http.ResponseWriter { return l.ResponseWriter }
