package frame

// Stats counts what a decoder has seen. Every byte fed is either part of a
// valid packet, a delimiter, or NoiseBytes. Lost frames are counted by
// whoever follows the sequence numbers, not here.
type Stats struct {
	Bytes      uint64 `json:"bytes"`       // bytes fed to the decoder
	Packets    uint64 `json:"packets"`     // valid packets of any type
	Frames     uint64 `json:"frames"`      // valid data frames passed on
	NoiseBytes uint64 `json:"noise_bytes"` // bytes of everything rejected
	CRCErrors  uint64 `json:"crc_errors"`  // packets whose CRC-32C failed
	Malformed  uint64 `json:"malformed"`   // packets with a bad length, type or field
	Oversize   uint64 `json:"oversize"`    // runs longer than MaxEncodedSize
	// LogsSuppressed counts lines of device text that text input did not
	// forward as log messages: more than TextLogRate a second.
	LogsSuppressed uint64 `json:"logs_suppressed"`
}

// Add returns the field-wise sum of s and o.
func (s Stats) Add(o Stats) Stats {
	return Stats{
		Bytes: s.Bytes + o.Bytes, Packets: s.Packets + o.Packets, Frames: s.Frames + o.Frames,
		NoiseBytes: s.NoiseBytes + o.NoiseBytes, CRCErrors: s.CRCErrors + o.CRCErrors,
		Malformed: s.Malformed + o.Malformed, Oversize: s.Oversize + o.Oversize,
		LogsSuppressed: s.LogsSuppressed + o.LogsSuppressed,
	}
}
