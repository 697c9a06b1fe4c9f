package adcsim

// MaxCorruptedSeqs bounds Stats.CorruptedSeqs.
const MaxCorruptedSeqs = 4096

// Stats are the device's exact counters, for tests to compare with what a
// receiver saw. Every data frame generated is either sent, dropped or
// detached: Frames == Sent + Dropped + Detached.
type Stats struct {
	Frames   uint64 `json:"frames"`   // data frames generated (seq advanced this many times)
	Sent     uint64 `json:"sent"`     // data frames written to the port
	Dropped  uint64 `json:"dropped"`  // frames dropped because output fell behind real time by more than MaxLag
	Detached uint64 `json:"detached"` // frames generated while unplugged
	Unplugs  uint64 `json:"unplugs"`  // simulated unplugs so far
	Bytes    uint64 `json:"bytes"`    // bytes written to the port

	GarbageBytes   uint64   `json:"garbage_bytes"`   // boot garbage bytes (excluding the 0x00 that ends them)
	CorruptedBytes uint64   `json:"corrupted_bytes"` // bytes flipped by --corrupt-rate
	Corrupted      uint64   `json:"corrupted"`       // sent data frames with at least one flipped byte
	CorruptedOther uint64   `json:"corrupted_other"` // info packets, replies and text lines hit
	CorruptedSeqs  []uint32 `json:"corrupted_seqs"`  // seqs of the first MaxCorruptedSeqs corrupted data frames
}

func (s Stats) clone() Stats {
	s.CorruptedSeqs = append([]uint32(nil), s.CorruptedSeqs...)
	return s
}
