package ingest

import (
	"encoding/binary"
	"fmt"

	"github.com/coder/websocket"
	"github.com/wsbridge/wsbridge/internal/wsconn"
)

// maxControl is the largest payload of a control frame (RFC 6455, 5.5).
const maxControl = 125

// wsEvent is what wsParser found in the bytes it was given: a whole data
// message (wsconn.OpText, wsconn.OpBinary) or a control frame
// (wsconn.OpClose, OpPing, OpPong). Op 0 means none: the parser needs
// more bytes.
type wsEvent struct {
	Op   byte
	Data []byte // the payload, unmasked; valid until the parser is given more bytes
}

// wsParser is an incremental parser of the frames a WebSocket client sends
// (RFC 6455, 5): bytes are pushed in, in whatever pieces they arrived,
// and whole messages come out. It checks what the protocol requires of a
// client (masked frames, no reserved bits, known opcodes, control frames
// whole and short, continuation frames only inside a message) and
// refuses a message over max bytes; a violation is a *MessageError with
// the close code (1002, 1009) and a reason for the peer. Text is not
// checked for UTF-8 here: the Decoder does it with its own reason.
//
// It reads nothing itself, so one goroutine may drive many parsers. A
// message that arrives whole in one piece is unmasked in place and
// returned as a slice of that piece (no copy); one in several pieces or
// frames is gathered in the parser's own buffer.
//
// Not safe for concurrent use.
type wsParser struct {
	max int // the largest data message accepted

	hdr  [14]byte // the current frame's header, as it arrives
	nhdr int

	inFrame bool // the header is complete; rest payload bytes are to come
	op      byte
	fin     bool
	key     [4]byte
	rest    uint64
	pos     int // payload bytes of the frame unmasked so far (the mask's phase)

	msgOp byte   // the data message being gathered (its first frame's opcode); 0: none
	msg   []byte // its payload so far, when it does not come whole in one piece
	ctl   []byte // a control frame's payload split across pieces

	err error // sticky: after a violation the parser takes nothing more
}

func newWSParser(max int) *wsParser { return &wsParser{max: max} }

// next parses b from its start up to the first whole event and returns it
// with the count of bytes of b it used. With no event (Op 0) it used all
// of b and keeps what it needs of it; call again with the rest of b after
// an event. Event data may point into b.
func (p *wsParser) next(b []byte) (ev wsEvent, n int, err error) {
	if p.err != nil {
		return ev, 0, p.err
	}
	for {
		if !p.inFrame {
			k, err := p.header(b[n:])
			n += k
			if err != nil {
				p.err = err
				return ev, n, err
			}
			if !p.inFrame {
				return ev, n, nil
			}
		}
		first := p.pos == 0
		k := int(min(uint64(len(b)-n), p.rest))
		chunk := b[n : n+k]
		n += k
		p.rest -= uint64(k)
		p.pos = unmask(p.key, p.pos, chunk)
		if p.rest > 0 {
			p.gather(chunk)
			return ev, n, nil
		}
		p.inFrame = false
		if ev, done := p.frameEnd(first, chunk); done {
			return ev, n, nil
		}
	}
}

// gather keeps the part of a frame's payload that arrived.
func (p *wsParser) gather(chunk []byte) {
	if p.op >= wsconn.OpClose {
		p.ctl = append(p.ctl, chunk...)
	} else {
		p.msg = append(p.msg, chunk...)
	}
}

// frameEnd ends the current frame, whose last payload bytes are chunk
// (all of its payload when first): the event it completes, if any.
func (p *wsParser) frameEnd(first bool, chunk []byte) (wsEvent, bool) {
	if p.op >= wsconn.OpClose {
		if first {
			return wsEvent{p.op, chunk}, true
		}
		d := append(p.ctl, chunk...)
		p.ctl = d[:0]
		return wsEvent{p.op, d}, true
	}
	if first && p.fin && p.op != wsconn.OpContinuation { // a whole message in one piece
		p.msgOp = 0
		return wsEvent{p.op, chunk}, true
	}
	p.msg = append(p.msg, chunk...)
	if !p.fin {
		return wsEvent{}, false
	}
	op := p.msgOp
	p.msgOp = 0
	return wsEvent{op, p.msg}, true
}

// header takes the bytes of a frame header from b and, once it is
// whole, starts the frame. It returns the bytes it used.
func (p *wsParser) header(b []byte) (int, error) {
	n := 0
	for {
		need := wsconn.HeaderLen(p.hdr[:p.nhdr])
		if p.nhdr == need {
			break
		}
		if n == len(b) {
			return n, nil
		}
		k := copy(p.hdr[p.nhdr:need], b[n:])
		p.nhdr += k
		n += k
	}
	h := p.hdr[:p.nhdr]
	p.nhdr = 0
	return n, p.begin(h)
}

// begin checks a whole header h and starts its frame.
func (p *wsParser) begin(h []byte) error {
	fin, op := h[0]&0x80 != 0, h[0]&0x0f
	if h[0]&0x70 != 0 {
		return protocolError("frame with reserved bits set: no extension was negotiated")
	}
	if h[1]&0x80 == 0 {
		return protocolError("unmasked frame: a client must mask every frame (RFC 6455, 5.1)")
	}
	size, k := uint64(h[1]&0x7f), 2
	switch size {
	case 126:
		size, k = uint64(binary.BigEndian.Uint16(h[2:])), 4
	case 127:
		size, k = binary.BigEndian.Uint64(h[2:]), 10
		if size>>63 != 0 {
			return protocolError("frame length with its most significant bit set")
		}
	}
	if err := p.checkOp(op, fin, size); err != nil {
		return err
	}
	copy(p.key[:], h[k:k+4])
	p.op, p.fin, p.rest, p.pos, p.inFrame = op, fin, size, 0, true
	return nil
}

// checkOp checks a frame's opcode, FIN bit and size against the message
// in progress, and starts a new data message.
func (p *wsParser) checkOp(op byte, fin bool, size uint64) error {
	switch op {
	case wsconn.OpText, wsconn.OpBinary:
		if p.msgOp != 0 {
			return protocolError("new data frame before the final frame of the fragmented message")
		}
		p.msgOp, p.msg = op, p.msg[:0]
	case wsconn.OpContinuation:
		if p.msgOp == 0 {
			return protocolError("continuation frame without a fragmented message to continue")
		}
	case wsconn.OpClose, wsconn.OpPing, wsconn.OpPong:
		if !fin {
			return protocolError("fragmented control frame")
		}
		if size > maxControl {
			return protocolError(fmt.Sprintf("control frame of %d bytes: at most %d", size, maxControl))
		}
		return nil
	default:
		return protocolError(fmt.Sprintf("unknown opcode 0x%x", op))
	}
	if uint64(len(p.msg))+size > uint64(p.max) {
		return refuse("too_big", ErrTooBig, fmt.Sprintf("message over %d bytes: at most %d (one v1 packet per binary message)", p.max, p.max))
	}
	return nil
}

// protocolError is a violation of RFC 6455 by the peer: close code 1002.
func protocolError(msg string) *MessageError {
	return &MessageError{Reason: "protocol", Code: websocket.StatusProtocolError, Msg: "protocol error: " + msg, Err: ErrProtocol}
}

// unmask applies the masking key to b, the payload bytes from offset pos
// of their frame, in place, and returns the offset after them.
func unmask(key [4]byte, pos int, b []byte) int {
	end := pos + len(b)
	var k [4]byte
	for i := range k {
		k[i] = key[(pos+i)&3]
	}
	k32 := binary.LittleEndian.Uint32(k[:])
	k64 := uint64(k32) | uint64(k32)<<32
	for len(b) >= 8 {
		binary.LittleEndian.PutUint64(b, binary.LittleEndian.Uint64(b)^k64)
		b = b[8:]
	}
	for i := range b {
		b[i] ^= k[i&3]
	}
	return end
}
