package frame

import (
	"encoding/binary"
	"fmt"
	"math"
)

// Version is the wire format version carried in every packet's first byte.
const Version = 1

// Sizes of the fixed parts of a packet, in bytes.
const (
	PrefixSize     = 4 // version, type, body length (u16)
	CRCSize        = 4 // CRC-32C trailer
	Overhead       = PrefixSize + CRCSize
	DataHeaderSize = 20    // seq, t_dev_us, rate, channels, sample type, count
	MaxPacketSize  = 65536 // a decoded packet never exceeds this
	MaxBodySize    = MaxPacketSize - Overhead
	// MaxEncodedSize is the longest COBS encoding of a MaxPacketSize packet,
	// without its delimiter.
	MaxEncodedSize = MaxPacketSize + (MaxPacketSize+253)/254
	// MaxPayload is the largest sample payload a data frame can carry.
	MaxPayload = MaxBodySize - DataHeaderSize
)

// Type is the packet type, the second byte of every packet.
type Type uint8

// Packet types.
const (
	TypeData  Type = 0x01 // a block of samples
	TypeInfo  Type = 0x02 // device name, firmware, channel names and units
	TypeLog   Type = 0x03 // free text the device logs
	TypeReply Type = 0x04 // the device's answer to a text command
	// TypeEnvelope (0x05, envelope.go) travels only from serve to clients.
)

func (t Type) String() string {
	switch t {
	case TypeData:
		return "data"
	case TypeInfo:
		return "info"
	case TypeLog:
		return "log"
	case TypeReply:
		return "reply"
	case TypeEnvelope:
		return "envelope"
	}
	return fmt.Sprintf("type(0x%02x)", uint8(t))
}

// SampleType says how each sample of a data frame is stored.
type SampleType uint8

// Sample types. All are little-endian.
const (
	U16 SampleType = 0x01 // raw 12-bit ADC words
	I16 SampleType = 0x02 // 16-bit PCM
	I32 SampleType = 0x03 // 24-bit I2S microphones, left-justified or sign-extended
	F32 SampleType = 0x04 // IEEE 754 binary32
)

// Size is the number of bytes one sample of t occupies, or 0 if t is unknown.
func (t SampleType) Size() int {
	switch t {
	case U16, I16:
		return 2
	case I32, F32:
		return 4
	}
	return 0
}

// String returns the name used in JSON, flags and docs: u16, i16, i32, f32.
func (t SampleType) String() string {
	switch t {
	case U16:
		return "u16"
	case I16:
		return "i16"
	case I32:
		return "i32"
	case F32:
		return "f32"
	}
	return fmt.Sprintf("sample_type(0x%02x)", uint8(t))
}

// ParseSampleType maps a name (u16, i16, i32, f32) to its SampleType.
func ParseSampleType(s string) (SampleType, error) {
	for _, t := range []SampleType{U16, I16, I32, F32} {
		if t.String() == s {
			return t, nil
		}
	}
	return 0, fmt.Errorf("%w %q: want u16, i16, i32 or f32", ErrSampleType, s)
}

// Frame is one data packet: Count sample instants of Channels interleaved
// channels. Data holds the raw little-endian payload and may alias a
// decoder's buffer; see Packet.Clone.
type Frame struct {
	Seq        uint32     // wraps at 2^32
	TimeUS     uint64     // device time of the first sample, µs
	Rate       uint32     // sample rate, Hz
	Channels   uint8      // interleaved channels, >= 1
	SampleType SampleType // storage of each sample
	Count      uint16     // sample instants (samples per channel)
	Data       []byte     // Count*Channels*SampleType.Size() bytes
}

// PayloadSize is the number of payload bytes the header describes.
func (f *Frame) PayloadSize() int {
	return int(f.Count) * int(f.Channels) * f.SampleType.Size()
}

// Int returns sample i of channel ch as an integer (f32 is truncated).
// It panics if i or ch is out of range, like a slice index.
func (f *Frame) Int(i, ch int) int64 {
	sz := f.SampleType.Size()
	off := (i*int(f.Channels) + ch) * sz
	b := f.Data[off : off+sz]
	switch f.SampleType {
	case U16:
		return int64(binary.LittleEndian.Uint16(b))
	case I16:
		return int64(int16(binary.LittleEndian.Uint16(b)))
	case I32:
		return int64(int32(binary.LittleEndian.Uint32(b)))
	case F32:
		return int64(math.Float32frombits(binary.LittleEndian.Uint32(b)))
	}
	return 0
}

// Float returns sample i of channel ch as a float64.
func (f *Frame) Float(i, ch int) float64 {
	if f.SampleType == F32 {
		off := (i*int(f.Channels) + ch) * 4
		return float64(math.Float32frombits(binary.LittleEndian.Uint32(f.Data[off:])))
	}
	return float64(f.Int(i, ch))
}

// PutInt stores v as sample i of channel ch, wrapping to the sample type's
// range (f32 stores float32(v)).
func (f *Frame) PutInt(i, ch int, v int64) {
	sz := f.SampleType.Size()
	off := (i*int(f.Channels) + ch) * sz
	switch f.SampleType {
	case U16, I16:
		binary.LittleEndian.PutUint16(f.Data[off:], uint16(v))
	case I32:
		binary.LittleEndian.PutUint32(f.Data[off:], uint32(v))
	case F32:
		binary.LittleEndian.PutUint32(f.Data[off:], math.Float32bits(float32(v)))
	}
}

// PutFloat stores v as sample i of channel ch; integer types round and clamp.
func (f *Frame) PutFloat(i, ch int, v float64) {
	if f.SampleType == F32 {
		off := (i*int(f.Channels) + ch) * 4
		binary.LittleEndian.PutUint32(f.Data[off:], math.Float32bits(float32(v)))
		return
	}
	lo, hi := f.SampleType.Range()
	v = math.Round(v)
	v = math.Max(float64(lo), math.Min(float64(hi), v))
	f.PutInt(i, ch, int64(v))
}

// Range is the smallest and largest value a sample of t can hold (f32: the
// range of exactly representable integers).
func (t SampleType) Range() (lo, hi int64) {
	switch t {
	case U16:
		return 0, math.MaxUint16
	case I16:
		return math.MinInt16, math.MaxInt16
	case I32:
		return math.MinInt32, math.MaxInt32
	case F32:
		return -1 << 24, 1 << 24
	}
	return 0, 0
}

// Channel describes one channel for display: its name and unit.
type Channel struct {
	Name string `json:"name"`
	Unit string `json:"unit"`
}

// DeviceInfo is the info packet a device sends at start and on request.
type DeviceInfo struct {
	Rate         uint32     `json:"rate"`
	Channels     uint8      `json:"channels"`
	SampleType   SampleType `json:"-"`
	FrameSamples uint16     `json:"frame_samples"`
	Name         string     `json:"name"`
	Firmware     string     `json:"firmware"`
	ChannelInfo  []Channel  `json:"channel_info"`
}

// Reply status codes carried by TypeReply packets.
const (
	ReplyOK    = 0
	ReplyError = 1
)

// Packet is one decoded packet. Only the fields of its Type are set.
// Frame.Data, Text and Raw alias the decoder's buffer when handed to a
// callback; Clone makes an independent copy.
type Packet struct {
	Type   Type
	Frame  Frame      // TypeData
	Info   DeviceInfo // TypeInfo
	Status uint8      // TypeReply: ReplyOK or ReplyError
	Text   []byte     // TypeLog, TypeReply
	Raw    []byte     // the whole decoded packet, prefix to CRC
}

// Clone returns a deep copy of p that does not alias any buffer.
func (p *Packet) Clone() Packet {
	c := *p
	c.Raw = append([]byte(nil), p.Raw...)
	switch p.Type {
	case TypeData:
		c.Frame.Data = c.Raw[PrefixSize+DataHeaderSize : len(c.Raw)-CRCSize]
	case TypeLog:
		c.Text = c.Raw[PrefixSize : len(c.Raw)-CRCSize]
	case TypeReply:
		c.Text = c.Raw[PrefixSize+1 : len(c.Raw)-CRCSize]
	case TypeInfo:
		c.Info.ChannelInfo = append([]Channel(nil), p.Info.ChannelInfo...)
	}
	return c
}
