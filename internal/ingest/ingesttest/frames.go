package ingesttest

import "encoding/binary"

// Key is the masking key ClientFrame uses: four different bytes, so that
// a mask applied at the wrong phase shows.
var Key = [4]byte{0x37, 0xfa, 0x21, 0x3d}

// ClientFrame encodes one WebSocket frame as a client sends it (RFC 6455,
// 5.2): FIN as given, opcode op, the shortest length form (7, 16 or 64
// bits), masked with Key.
func ClientFrame(fin bool, op byte, payload []byte) []byte {
	b0 := op
	if fin {
		b0 |= 0x80
	}
	b := []byte{b0}
	switch n := len(payload); {
	case n <= 125:
		b = append(b, 0x80|byte(n))
	case n <= 0xffff:
		b = binary.BigEndian.AppendUint16(append(b, 0x80|126), uint16(n))
	default:
		b = binary.BigEndian.AppendUint64(append(b, 0x80|127), uint64(n))
	}
	b = append(b, Key[:]...)
	for i, c := range payload {
		b = append(b, c^Key[i&3])
	}
	return b
}

// CloseFrame encodes a client's close frame with code and reason.
func CloseFrame(code uint16, reason string) []byte {
	return ClientFrame(true, 0x8, append(binary.BigEndian.AppendUint16(nil, code), reason...))
}
