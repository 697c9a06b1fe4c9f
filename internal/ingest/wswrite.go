package ingest

import (
	"encoding/binary"
	"errors"
	"net"
	"sync"
	"time"

	"github.com/wsbridge/wsbridge/internal/wsconn"
)

// errCloseSent is a write after the session's close frame went out.
var errCloseSent = errors.New("the close frame was sent already")

// wsWriter writes a server's WebSocket frames (unmasked, RFC 6455, 5.2)
// to a connection, one whole frame per write call, each with its own
// deadline. All methods are safe for concurrent use: the greeting,
// commands, pings, pongs and the close frame share one mutex. Nothing is
// written after a close frame.
type wsWriter struct {
	mu     sync.Mutex
	c      net.Conn
	buf    []byte
	closed bool
}

// write sends one frame of opcode op with payload p, giving up after
// timeout.
func (w *wsWriter) write(op byte, p []byte, timeout time.Duration) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return errCloseSent
	}
	w.closed = op == wsconn.OpClose
	b := append(wsconn.AppendHeader(w.buf[:0], op, len(p)), p...)
	if cap(b) <= 1<<10 {
		w.buf = b[:0] // keep a small buffer for the next frame
	}
	w.c.SetWriteDeadline(time.Now().Add(timeout))
	_, err := w.c.Write(b)
	w.c.SetWriteDeadline(time.Time{})
	return err
}

// writeClose sends a close frame with code and reason (no payload for
// code 0 or 1005, "no status": RFC 6455, 7.4.1).
func (w *wsWriter) writeClose(code uint16, reason string, timeout time.Duration) error {
	var p []byte
	if code != 0 && code != closeNoStatus {
		p = binary.BigEndian.AppendUint16(make([]byte, 0, 2+len(reason)), code)
		p = append(p, TrimReason(reason)...)
	}
	return w.write(wsconn.OpClose, p, timeout)
}
