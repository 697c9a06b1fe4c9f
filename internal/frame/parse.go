package frame

import (
	"encoding/binary"
	"fmt"
)

// DecodeCOBS appends the decoding of one COBS block src (without its
// delimiter) to dst. It never writes more than len(src)-1 bytes.
func DecodeCOBS(dst, src []byte) ([]byte, error) {
	for i := 0; i < len(src); {
		code := int(src[i])
		if code == 0 {
			return dst, ErrCOBS
		}
		i++
		end := i + code - 1
		if end > len(src) {
			return dst, ErrCOBS
		}
		dst = append(dst, src[i:end]...)
		i = end
		if code != 0xFF && i < len(src) {
			dst = append(dst, 0)
		}
	}
	return dst, nil
}

// Parse validates one decoded packet b (prefix, body and CRC) and fills p.
// p's byte slices alias b. Device info strings are copied.
//
// Parse takes the packets devices send (data, info, log, reply). The
// envelope packets serve sends to ?envelope=N clients are refused here as
// an unknown type (a device never sends one): ParseEnvelope reads them.
func Parse(p *Packet, b []byte) error {
	if err := checkPacket(b); err != nil {
		return err
	}
	n := len(b) - CRCSize
	*p = Packet{Type: Type(b[1]), Raw: b}
	switch p.Type {
	case TypeData:
		return parseData(&p.Frame, b[PrefixSize:n])
	case TypeInfo:
		return parseInfo(&p.Info, b[PrefixSize:n])
	case TypeLog:
		p.Text = b[PrefixSize:n]
		return nil
	case TypeReply:
		if n == PrefixSize {
			return fmt.Errorf("failed to parse reply: %w", ErrShort)
		}
		p.Status, p.Text = b[PrefixSize], b[PrefixSize+1:n]
		return nil
	}
	return fmt.Errorf("failed to parse packet: %w 0x%02x", ErrType, b[1])
}

// checkPacket checks what every packet shares: its size, version, length
// field and CRC-32C.
func checkPacket(b []byte) error {
	if len(b) < Overhead {
		return fmt.Errorf("failed to parse %d-byte packet: %w", len(b), ErrShort)
	}
	if len(b) > MaxPacketSize {
		return fmt.Errorf("failed to parse %d-byte packet: %w", len(b), ErrTooLarge)
	}
	if b[0] != Version {
		return fmt.Errorf("failed to parse packet of version %d: %w", b[0], ErrVersion)
	}
	body := int(binary.LittleEndian.Uint16(b[2:]))
	if body+Overhead != len(b) {
		return fmt.Errorf("failed to parse packet: length field %d, packet %d bytes: %w", body, len(b), ErrLength)
	}
	n := len(b) - CRCSize
	if Checksum(b[:n]) != binary.LittleEndian.Uint32(b[n:]) {
		return fmt.Errorf("failed to parse packet: %w", ErrCRC)
	}
	return nil
}

func parseData(f *Frame, body []byte) error {
	if len(body) < DataHeaderSize {
		return fmt.Errorf("failed to parse data frame: %d-byte body: %w", len(body), ErrShort)
	}
	f.Seq = binary.LittleEndian.Uint32(body[0:])
	f.TimeUS = binary.LittleEndian.Uint64(body[4:])
	f.Rate = binary.LittleEndian.Uint32(body[12:])
	f.Channels = body[16]
	f.SampleType = SampleType(body[17])
	f.Count = binary.LittleEndian.Uint16(body[18:])
	f.Data = body[DataHeaderSize:]
	if f.SampleType.Size() == 0 {
		return fmt.Errorf("failed to parse data frame %d: %w 0x%02x", f.Seq, ErrSampleType, body[17])
	}
	if f.Channels == 0 || len(f.Data) != f.PayloadSize() {
		return fmt.Errorf("failed to parse data frame %d: %d channels x %d samples of %s in %d bytes: %w",
			f.Seq, f.Channels, f.Count, f.SampleType, len(f.Data), ErrLength)
	}
	return nil
}

func parseInfo(info *DeviceInfo, body []byte) error {
	if len(body) < 8 {
		return fmt.Errorf("failed to parse device info: %w", ErrShort)
	}
	*info = DeviceInfo{
		Rate:         binary.LittleEndian.Uint32(body),
		Channels:     body[4],
		SampleType:   SampleType(body[5]),
		FrameSamples: binary.LittleEndian.Uint16(body[6:]),
	}
	r := strReader{b: body[8:]}
	info.Name, info.Firmware = r.str(), r.str()
	n := r.byte()
	if r.err == nil && int(n) > int(info.Channels) {
		r.err = ErrField
	}
	for i := 0; i < int(n) && r.err == nil; i++ {
		info.ChannelInfo = append(info.ChannelInfo, Channel{Name: r.str(), Unit: r.str()})
	}
	if r.err == nil && len(r.b) != 0 {
		r.err = ErrLength
	}
	if r.err != nil {
		return fmt.Errorf("failed to parse device info: %w", r.err)
	}
	return nil
}

// strReader reads u8-length-prefixed strings, remembering the first error.
type strReader struct {
	b   []byte
	err error
}

func (r *strReader) byte() byte {
	if r.err != nil || len(r.b) < 1 {
		r.err = ErrField
		return 0
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c
}

func (r *strReader) str() string {
	n := int(r.byte())
	if r.err != nil || len(r.b) < n {
		r.err = ErrField
		return ""
	}
	s := string(r.b[:n])
	r.b = r.b[n:]
	return s
}
