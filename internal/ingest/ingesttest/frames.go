package ingesttest

import (
	"encoding/binary"

	"github.com/wsbridge/wsbridge/internal/wsconn"
)

// Key is the masking key ClientFrame uses: four different bytes, so that
// a mask applied at the wrong phase shows.
var Key = [4]byte{0x37, 0xfa, 0x21, 0x3d}

// ClientFrame encodes one WebSocket frame as a client sends it (RFC 6455,
// 5.2): FIN as given, opcode op, the shortest length form (7, 16 or 64
// bits), masked with Key.
func ClientFrame(fin bool, op byte, payload []byte) []byte {
	return wsconn.AppendClientFrame(nil, fin, op, Key, payload)
}

// CloseFrame encodes a client's close frame with code and reason.
func CloseFrame(code uint16, reason string) []byte {
	return ClientFrame(true, 0x8, append(binary.BigEndian.AppendUint16(nil, code), reason...))
}
