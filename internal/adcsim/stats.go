package adcsim

// MaxCorruptedSeqs bounds Stats.CorruptedSeqs, MaxGaps Stats.Gaps.
const (
	MaxCorruptedSeqs = 4096
	MaxGaps          = 4096
)

// Gap is a range of frames the device generated but did not send.
type Gap struct {
	From   uint32 `json:"from"` // first seq, inclusive
	To     uint32 `json:"to"`   // last seq, inclusive
	Reason string `json:"reason"`
}

// Reasons for a Gap.
const (
	GapDropped  = "dropped"  // output fell behind real time by more than MaxLag
	GapDetached = "detached" // generated while unplugged
)

// Stats are the device's exact counters, for tests to compare with what a
// receiver saw. Every data frame generated is either sent, dropped or
// detached: Frames == Sent + Dropped + Detached, except for the frames
// whose write was cut short when Run's context ended (they count as
// detached when Run is called again). Frames cut short by a simulated
// unplug count as detached at once.
type Stats struct {
	Frames   uint64 `json:"frames"`   // data frames generated (seq advanced this many times)
	Sent     uint64 `json:"sent"`     // data frames written to the port in full
	Dropped  uint64 `json:"dropped"`  // frames dropped because output fell behind real time by more than MaxLag
	Detached uint64 `json:"detached"` // frames generated while unplugged, or cut short by the unplug
	Unplugs  uint64 `json:"unplugs"`  // simulated unplugs so far
	Bytes    uint64 `json:"bytes"`    // bytes written to the port
	Gaps     []Gap  `json:"gaps"`     // the first MaxGaps ranges of dropped and detached frames

	GarbageBytes   uint64   `json:"garbage_bytes"`   // boot garbage bytes (excluding the 0x00 that ends them)
	CorruptedBytes uint64   `json:"corrupted_bytes"` // bytes flipped by --corrupt-rate
	Corrupted      uint64   `json:"corrupted"`       // sent data frames with at least one flipped byte
	CorruptedOther uint64   `json:"corrupted_other"` // info packets, replies and text lines hit
	CorruptedSeqs  []uint32 `json:"corrupted_seqs"`  // seqs of the first MaxCorruptedSeqs corrupted data frames
}

func (s Stats) clone() Stats {
	s.CorruptedSeqs = append([]uint32(nil), s.CorruptedSeqs...)
	s.Gaps = append([]Gap(nil), s.Gaps...)
	return s
}

// addLost counts n frames from seq from as dropped or detached and
// records their range, extending the last range if it is contiguous and
// has the same reason.
func (s *Stats) addLost(from uint32, n int, reason string) {
	if reason == GapDropped {
		s.Dropped += uint64(n)
	} else {
		s.Detached += uint64(n)
	}
	to := from + uint32(n-1)
	if k := len(s.Gaps); k > 0 && s.Gaps[k-1].To+1 == from && s.Gaps[k-1].Reason == reason {
		s.Gaps[k-1].To = to
		return
	}
	if len(s.Gaps) < MaxGaps {
		s.Gaps = append(s.Gaps, Gap{From: from, To: to, Reason: reason})
	}
}
