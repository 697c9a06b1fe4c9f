package frame

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"slices"
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Checksum is the CRC-32C (Castagnoli) of b, as carried in packet trailers.
func Checksum(b []byte) uint32 { return crc32.Checksum(b, castagnoli) }

// appendPrefix appends version, type and a zero length to dst and returns it
// with the offset of the packet start.
func appendPrefix(dst []byte, t Type) ([]byte, int) {
	start := len(dst)
	return append(dst, Version, byte(t), 0, 0), start
}

// finish patches the length field of the packet that begins at start and
// appends its CRC.
func finish(dst []byte, start int) ([]byte, error) {
	body := len(dst) - start - PrefixSize
	if body > MaxBodySize {
		return dst[:start], fmt.Errorf("failed to encode packet of %d bytes: %w", body+Overhead, ErrTooLarge)
	}
	binary.LittleEndian.PutUint16(dst[start+2:], uint16(body))
	return binary.LittleEndian.AppendUint32(dst, Checksum(dst[start:])), nil
}

// AppendFrame appends the data packet for f to dst. f.Data must hold
// exactly f.PayloadSize() bytes.
func AppendFrame(dst []byte, f *Frame) ([]byte, error) {
	if f.SampleType.Size() == 0 {
		return dst, fmt.Errorf("failed to encode frame %d: %w", f.Seq, ErrSampleType)
	}
	if f.Channels == 0 || len(f.Data) != f.PayloadSize() {
		return dst, fmt.Errorf("failed to encode frame %d: %d channels, %d samples of %s need %d bytes, have %d: %w",
			f.Seq, f.Channels, f.Count, f.SampleType, f.PayloadSize(), len(f.Data), ErrLength)
	}
	dst, start := appendPrefix(dst, TypeData)
	dst = binary.LittleEndian.AppendUint32(dst, f.Seq)
	dst = binary.LittleEndian.AppendUint64(dst, f.TimeUS)
	dst = binary.LittleEndian.AppendUint32(dst, f.Rate)
	dst = append(dst, f.Channels, byte(f.SampleType))
	dst = binary.LittleEndian.AppendUint16(dst, f.Count)
	dst = append(dst, f.Data...)
	return finish(dst, start)
}

// AppendInfo appends the device info packet for info to dst. Strings are
// limited to 255 bytes each; ChannelInfo may be shorter than Channels.
func AppendInfo(dst []byte, info *DeviceInfo) ([]byte, error) {
	if len(info.ChannelInfo) > int(info.Channels) {
		return dst, fmt.Errorf("failed to encode device info: %d channel descriptions for %d channels: %w",
			len(info.ChannelInfo), info.Channels, ErrField)
	}
	dst, start := appendPrefix(dst, TypeInfo)
	dst = binary.LittleEndian.AppendUint32(dst, info.Rate)
	dst = append(dst, info.Channels, byte(info.SampleType))
	dst = binary.LittleEndian.AppendUint16(dst, info.FrameSamples)
	var err error
	for _, s := range []string{info.Name, info.Firmware} {
		if dst, err = appendStr8(dst, s); err != nil {
			return dst[:start], err
		}
	}
	dst = append(dst, byte(len(info.ChannelInfo)))
	for _, c := range info.ChannelInfo {
		if dst, err = appendStr8(dst, c.Name); err != nil {
			return dst[:start], err
		}
		if dst, err = appendStr8(dst, c.Unit); err != nil {
			return dst[:start], err
		}
	}
	return finish(dst, start)
}

func appendStr8(dst []byte, s string) ([]byte, error) {
	if len(s) > 255 {
		return dst, fmt.Errorf("failed to encode device info string of %d bytes (max 255): %w", len(s), ErrField)
	}
	return append(append(dst, byte(len(s))), s...), nil
}

// AppendLog appends a device log packet carrying text.
func AppendLog(dst []byte, text []byte) ([]byte, error) {
	dst, start := appendPrefix(dst, TypeLog)
	dst = append(dst, text...)
	return finish(dst, start)
}

// AppendReply appends a command reply packet with status ReplyOK or
// ReplyError and text.
func AppendReply(dst []byte, status uint8, text []byte) ([]byte, error) {
	dst, start := appendPrefix(dst, TypeReply)
	dst = append(dst, status)
	dst = append(dst, text...)
	return finish(dst, start)
}

// AppendCOBS appends the COBS encoding of src to dst, without a delimiter.
// The encoding contains no 0x00 byte and is at most len(src)+len(src)/254+1
// bytes long.
func AppendCOBS(dst, src []byte) []byte {
	dst = slices.Grow(dst, len(src)+len(src)/254+1)
	for {
		run, rest, zero := bytes.Cut(src, []byte{0}) // a block ends at each zero
		for len(run) >= 254 {                        // full blocks imply no zero
			dst = append(append(dst, 0xFF), run[:254]...)
			run = run[254:]
		}
		dst = append(append(dst, byte(len(run)+1)), run...)
		if !zero {
			return dst
		}
		src = rest
	}
}

// AppendSerial appends pkt as it travels on the serial line: its COBS
// encoding followed by the 0x00 delimiter.
func AppendSerial(dst, pkt []byte) []byte {
	return append(AppendCOBS(dst, pkt), 0)
}
