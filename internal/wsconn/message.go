package wsconn

import (
	"encoding/binary"
	"errors"
)

// WebSocket opcodes (RFC 6455, 5.2).
const (
	OpContinuation byte = 0x0
	OpText         byte = 0x1
	OpBinary       byte = 0x2
	OpClose        byte = 0x8
	OpPing         byte = 0x9
	OpPong         byte = 0xa
)

// ErrDataEnded is what WriteMessage returns after EndData: the
// connection is being closed and its close frame may be on its way.
var ErrDataEnded = errors.New("wsconn: the connection is closing: no more messages")

// WriteMessage writes one WebSocket data message as a server sends it
// (one final frame, unmasked, no extensions): header and payload go into
// the connection together, into the gathered bytes while corked. It does
// what coder/websocket's Conn.Write does for a server without compression,
// without the library's per-message locks and state: the relay's writers
// send every frame through it, pings and close frames still go through
// the library (each reaches Write whole, so they never land inside a
// message). Safe for concurrent use; after EndData it writes nothing and
// returns ErrDataEnded.
func (c *Conn) WriteMessage(op byte, p []byte) error {
	var hb [10]byte
	h := AppendHeader(hb[:0], op, len(p))
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ended {
		return ErrDataEnded
	}
	if err := c.gatherLocked(h, p); err != nil || c.corked {
		return err
	}
	return c.flushLocked() // uncorked: one write for both, and the buffer back to the pool
}

// EndData makes every later WriteMessage fail with ErrDataEnded: call it
// before closing the WebSocket, so that no message of another goroutine
// (a publisher's inline write) follows the close frame. Idempotent.
func (c *Conn) EndData() {
	c.mu.Lock()
	c.ended = true
	c.mu.Unlock()
}

// AppendHeader appends the header of a server's frame: final, unmasked,
// with opcode op and an n-byte payload.
func AppendHeader(dst []byte, op byte, n int) []byte { return appendHeader(dst, 0x80|op, 0, n) }

// AppendClientFrame appends a frame as a client sends it (RFC 6455, 5.2):
// FIN as given, opcode op, the shortest length form, the payload masked
// with key. Serve never sends one; devices' stand-ins and tests do.
func AppendClientFrame(dst []byte, fin bool, op byte, key [4]byte, payload []byte) []byte {
	b0 := op
	if fin {
		b0 |= 0x80
	}
	dst = append(appendHeader(dst, b0, 0x80, len(payload)), key[:]...)
	for i, c := range payload {
		dst = append(dst, c^key[i&3])
	}
	return dst
}

// appendHeader appends a frame header: first byte b0 (FIN and opcode),
// mask (0x80 or 0) with the length of an n-byte payload.
func appendHeader(dst []byte, b0, mask byte, n int) []byte {
	dst = append(dst, b0)
	switch {
	case n < 126:
		return append(dst, mask|byte(n))
	case n <= 0xffff:
		return binary.BigEndian.AppendUint16(append(dst, mask|126), uint16(n))
	default:
		return binary.BigEndian.AppendUint64(append(dst, mask|127), uint64(n))
	}
}
