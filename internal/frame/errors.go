package frame

import "errors"

// Sentinel errors returned by Parse and the encoders. Use errors.Is.
var (
	// ErrShort means the packet is shorter than its header or its length field says.
	ErrShort = errors.New("packet too short")
	// ErrTooLarge means a packet would exceed MaxPacketSize.
	ErrTooLarge = errors.New("packet exceeds maximum size")
	// ErrCRC means the CRC-32C trailer does not match the packet.
	ErrCRC = errors.New("crc mismatch")
	// ErrVersion means the packet's format version is not 1.
	ErrVersion = errors.New("unsupported format version")
	// ErrType means the packet type is unknown.
	ErrType = errors.New("unknown packet type")
	// ErrLength means the length field disagrees with the packet's contents.
	ErrLength = errors.New("length field mismatch")
	// ErrSampleType means the sample type code is unknown.
	ErrSampleType = errors.New("unknown sample type")
	// ErrCOBS means the bytes between two delimiters are not valid COBS.
	ErrCOBS = errors.New("invalid cobs encoding")
	// ErrField means a device info field is malformed or too long.
	ErrField = errors.New("malformed field")
)
