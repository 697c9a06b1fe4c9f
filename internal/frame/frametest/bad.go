package frametest

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"

	"github.com/wsbridge/wsbridge/internal/frame"
)

// Layers of a Bad case: where the fault is, and so which decoders meet it.
const (
	LayerSerial = "serial" // the COBS framing of the serial line
	LayerPacket = "packet" // prefix, size, length field, CRC, type: every packet decoder
	LayerData   = "data"   // a data frame's body
	LayerInfo   = "info"   // a device info packet's body
	LayerReply  = "reply"  // a reply packet's body
)

// Bad is one malformed input and the error every decoder must give it, as
// mochi-mqtt's tpackets carry FailFirst and Expect. Exactly one thing is
// wrong in each (the length field and the CRC are right unless they are
// the fault), so decoders that check in different orders agree.
type Bad struct {
	Name   string
	Layer  string // LayerSerial, LayerPacket, LayerData, LayerInfo or LayerReply
	Hex    string // the packet, as one WebSocket binary message carries it; "" for a serial fault
	Serial string // the bytes on the serial line, ending in the 0x00 delimiter
	Err    error  // the frame sentinel that frame.Parse (or DecodeCOBS) wraps

	// Refuse, when not nil, is the packet an encoder was asked to build
	// that would have come out as Hex: encoders must refuse it with Err.
	// Its Frame.Data holds the payload given.
	Refuse *frame.Packet
}

// Bytes returns the packet, or nil for a serial fault.
func (b *Bad) Bytes() []byte { return mustHex(b.Hex) }

// SerialBytes returns the bytes on the serial line.
func (b *Bad) SerialBytes() []byte { return mustHex(b.Serial) }

// Kind is the error's name in decoders outside Go (the page, the client
// examples, golden.json): "cobs", "short", "too_large", "version",
// "length", "crc", "type", "sample_type" or "field".
func (b *Bad) Kind() string { return KindOf(b.Err) }

// kinds names the frame package's sentinels for decoders in other languages.
var kinds = []struct {
	err  error
	name string
}{
	{frame.ErrCOBS, "cobs"}, {frame.ErrShort, "short"}, {frame.ErrTooLarge, "too_large"},
	{frame.ErrVersion, "version"}, {frame.ErrLength, "length"}, {frame.ErrCRC, "crc"},
	{frame.ErrType, "type"}, {frame.ErrSampleType, "sample_type"}, {frame.ErrField, "field"},
}

// KindOf returns the name of the frame sentinel err wraps, or "" if none.
func KindOf(err error) string {
	for _, k := range kinds {
		if errors.Is(err, k.err) {
			return k.name
		}
	}
	return ""
}

// packet builds a packet of type t around body with a right length field
// and CRC.
func packet(t byte, body []byte) []byte {
	b := []byte{frame.Version, t, 0, 0}
	binary.LittleEndian.PutUint16(b[2:], uint16(len(body)))
	b = append(b, body...)
	return binary.LittleEndian.AppendUint32(b, frame.Checksum(b))
}

// edit returns a copy of the packet in hex h changed by f, with its CRC
// computed again (so only f's change is wrong).
func edit(h string, f func(b []byte) []byte) []byte {
	b := f(bytes.Clone(mustHex(h)))
	n := len(b) - frame.CRCSize
	binary.LittleEndian.PutUint32(b[n:], frame.Checksum(b[:n]))
	return b
}

// body returns the body of the packet in hex h.
func body(h string) []byte {
	b := mustHex(h)
	return b[frame.PrefixSize : len(b)-frame.CRCSize]
}

// bad fills in Hex and Serial from the packet p.
func bad(name, layer string, p []byte, err error, refuse *frame.Packet) Bad {
	return Bad{Name: name, Layer: layer, Hex: hex.EncodeToString(p),
		Serial: hex.EncodeToString(frame.AppendSerial(nil, p)), Err: err, Refuse: refuse}
}

// dataFrame is golden case 0's header (u16, one channel, 4 samples) with
// the changes made by f, and payload as its data: a frame to refuse.
func dataFrame(payload []byte, f func(*frame.Frame)) *frame.Packet {
	p := Golden[0].Packet
	p.Frame.Data = payload
	f(&p.Frame)
	return &p
}

// Failing is the table of malformed inputs. Never change an entry's
// meaning: add new ones.
var Failing = []Bad{
	{Name: "COBS block cut short", Layer: LayerSerial, Err: frame.ErrCOBS,
		// golden 0's last block is 05 d8 3e 11 f1 (the CRC): keep 05 d8 3e
		Serial: Golden[0].Serial[:len(Golden[0].Serial)-6] + "00"},
	bad("shorter than prefix and CRC", LayerPacket, mustHex("01030000aabbcc"), frame.ErrShort, nil),
	bad("65537 bytes: over the 65536-byte maximum", LayerPacket, oversize(), frame.ErrTooLarge,
		&frame.Packet{Type: frame.TypeLog, Text: oversizeText()}),
	bad("version 2", LayerPacket, edit(Golden[0].Hex, func(b []byte) []byte { b[0] = 2; return b }), frame.ErrVersion, nil),
	bad("length field one more than the body", LayerPacket,
		edit(Golden[0].Hex, func(b []byte) []byte { b[2]++; return b }), frame.ErrLength, nil),
	bad("packet cut short", LayerPacket, mustHex(Golden[1].Hex)[:20], frame.ErrLength, nil),
	bad("CRC mismatch", LayerPacket, func() []byte { b := mustHex(Golden[1].Hex); b[30] ^= 0x40; return b }(), frame.ErrCRC, nil),
	bad("unknown packet type 0x09", LayerPacket, edit(Golden[6].Hex, func(b []byte) []byte { b[1] = 9; return b }), frame.ErrType, nil),
	bad("data body shorter than its header", LayerData, packet(1, body(Golden[0].Hex)[:10]), frame.ErrShort, nil),
	bad("unknown sample type 0x07", LayerData, edit(Golden[0].Hex, func(b []byte) []byte { b[21] = 7; return b }), frame.ErrSampleType,
		dataFrame(body(Golden[0].Hex)[frame.DataHeaderSize:], func(f *frame.Frame) { f.SampleType = 7 })),
	bad("payload 2 bytes short of the header's 4 u16 samples", LayerData,
		packet(1, body(Golden[0].Hex)[:frame.DataHeaderSize+6]), frame.ErrLength,
		dataFrame(body(Golden[0].Hex)[frame.DataHeaderSize:][:6], func(*frame.Frame) {})),
	bad("payload 2 bytes over the header's 4 u16 samples", LayerData,
		packet(1, append(bytes.Clone(body(Golden[0].Hex)), 4, 0)), frame.ErrLength,
		dataFrame(append(bytes.Clone(body(Golden[0].Hex)[frame.DataHeaderSize:]), 4, 0), func(*frame.Frame) {})),
	bad("no channels", LayerData, edit(Golden[0].Hex, func(b []byte) []byte { b[20] = 0; return b }), frame.ErrLength,
		dataFrame(body(Golden[0].Hex)[frame.DataHeaderSize:], func(f *frame.Frame) { f.Channels = 0 })),
	bad("more channel names than channels", LayerInfo,
		packet(2, []byte{0x80, 0x3e, 0, 0, 1, 2, 0, 1, 0, 0, 2, 1, 'a', 0, 1, 'b', 0}), frame.ErrField,
		&frame.Packet{Type: frame.TypeInfo, Info: frame.DeviceInfo{Rate: 16000, Channels: 1, SampleType: frame.I16, FrameSamples: 256,
			ChannelInfo: []frame.Channel{{Name: "a"}, {Name: "b"}}}}),
	bad("device name running past the body", LayerInfo,
		packet(2, []byte{0x80, 0x3e, 0, 0, 1, 2, 0, 1, 9, 's', 'i', 'm'}), frame.ErrField, nil),
	bad("reply without its status byte", LayerReply, packet(4, nil), frame.ErrShort, nil),
}

// oversizeText is a log text one byte longer than a packet can carry.
func oversizeText() []byte { return bytes.Repeat([]byte{'x'}, frame.MaxBodySize+1) }

// oversize is the log packet of oversizeText: 65537 bytes, its length
// field and CRC right.
func oversize() []byte { return packet(byte(frame.TypeLog), oversizeText()) }
