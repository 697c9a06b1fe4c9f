package frame

// Stats counts what a decoder has seen. Every byte fed is either part of a
// valid packet, a delimiter, or NoiseBytes; every lost frame is in Lost.
type Stats struct {
	Bytes      uint64 `json:"bytes"`       // bytes fed to the decoder
	Packets    uint64 `json:"packets"`     // valid packets of any type
	Frames     uint64 `json:"frames"`      // valid data frames passed on
	NoiseBytes uint64 `json:"noise_bytes"` // bytes of everything rejected
	CRCErrors  uint64 `json:"crc_errors"`  // packets whose CRC-32C failed
	Malformed  uint64 `json:"malformed"`   // packets with a bad length, type or field
	Oversize   uint64 `json:"oversize"`    // runs longer than MaxEncodedSize
	Gaps       uint64 `json:"gaps"`        // sequence gaps
	Lost       uint64 `json:"lost"`        // frames missing in those gaps
	Duplicates uint64 `json:"duplicates"`  // duplicate or reordered frames dropped
	Restarts   uint64 `json:"restarts"`    // times the sender restarted its count
}

// Add returns the field-wise sum of s and o.
func (s Stats) Add(o Stats) Stats {
	return Stats{
		Bytes: s.Bytes + o.Bytes, Packets: s.Packets + o.Packets, Frames: s.Frames + o.Frames,
		NoiseBytes: s.NoiseBytes + o.NoiseBytes, CRCErrors: s.CRCErrors + o.CRCErrors,
		Malformed: s.Malformed + o.Malformed, Oversize: s.Oversize + o.Oversize,
		Gaps: s.Gaps + o.Gaps, Lost: s.Lost + o.Lost, Duplicates: s.Duplicates + o.Duplicates,
		Restarts: s.Restarts + o.Restarts,
	}
}

// count updates the sequence counters for ev and reports whether the frame
// should be passed on.
func (s *Stats) count(ev SeqEvent) bool {
	switch ev.Kind {
	case SeqGap:
		s.Gaps++
		s.Lost += uint64(ev.Lost)
	case SeqDuplicate:
		s.Duplicates++
		return false
	case SeqRestart:
		s.Restarts++
	}
	s.Frames++
	return true
}
