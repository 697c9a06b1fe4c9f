package frame_test

import (
	"encoding/binary"

	"github.com/wsbridge/wsbridge/internal/frame"
)

// reCRC recomputes the CRC trailer of packet b in place.
func reCRC(b []byte) []byte {
	n := len(b) - frame.CRCSize
	binary.LittleEndian.PutUint32(b[n:], frame.Checksum(b[:n]))
	return b
}

func badSampleType() []byte {
	f := frame.Frame{Channels: 1, SampleType: frame.U16, Count: 1, Data: []byte{1, 2}}
	b, _ := frame.AppendFrame(nil, &f)
	b[frame.PrefixSize+17] = 9
	return b
}
