package sink

import (
	"sync"
	"sync/atomic"
	"time"
)

// maxListed caps the gap ranges kept for the summary.
const maxListed = 100

// GapRange is a run of frames the sink never received, with the reason:
// history (a resume older than serve's history), slow_client (serve skipped
// this client ahead), device (lost between the device and serve) or
// network (missing from the sequence numbers without an announcement).
type GapRange struct {
	From   uint32 `json:"from"`
	To     uint32 `json:"to"`
	Count  uint64 `json:"count"`
	Reason string `json:"reason"`
	Epoch  string `json:"epoch,omitempty"`
}

// Summary is what Run prints at exit and what the status line shows.
type Summary struct {
	Duration       time.Duration `json:"-"`
	DurationS      float64       `json:"duration_s"`
	ConnectedS     float64       `json:"connected_s"`
	Connections    uint64        `json:"connections"`
	Reconnects     uint64        `json:"reconnects"`
	Frames         uint64        `json:"frames"`
	Samples        uint64        `json:"samples"`
	BytesWritten   uint64        `json:"bytes_written"`
	Gaps           uint64        `json:"gaps"`
	LostFrames     uint64        `json:"lost_frames"`
	GapRanges      []GapRange    `json:"gap_ranges"`
	Duplicates     uint64        `json:"duplicates"`
	Restarts       uint64        `json:"restarts"`
	DroppedFrames  uint64        `json:"dropped_frames"`
	DroppedSamples uint64        `json:"dropped_samples"`
	DropRanges     []SeqRange    `json:"drop_ranges"`
	BadPackets     uint64        `json:"bad_packets"`
	WriteErrors    uint64        `json:"write_errors"`
	Commands       uint64        `json:"commands"`
	Replies        uint64        `json:"replies"`
	Errors         uint64        `json:"errors"`
	// InfoNotWritten counts device info that --format raw could not write
	// (serve's description does not encode as a v1 info packet).
	InfoNotWritten uint64 `json:"info_not_written"`
	// RepliesTruncated counts replies cut to fit the port (--replies-to-port).
	RepliesTruncated uint64 `json:"replies_truncated"`
	// LinesLost counts gap and restart lines not written into the port
	// (more than 4096 waiting: a broken server); the gaps are still counted.
	LinesLost uint64  `json:"lines_lost"`
	Epoch     string  `json:"epoch,omitempty"` // the stream's epoch at exit
	LastSeq   *uint32 `json:"last_seq"`
	// Stopped says why the sink stopped: "signal" or the error.
	Stopped string `json:"stopped,omitempty"`
}

// stats are the sink's counters. Counters are atomic; lists and times
// are under mu. Safe for concurrent use.
type stats struct {
	frames, samples, bytesWritten        atomic.Uint64
	gaps, lost, duplicates, restarts     atomic.Uint64
	connections, badPackets, writeErrors atomic.Uint64
	commands, replies, errors            atomic.Uint64
	infoNotWritten, repliesTruncated     atomic.Uint64
	rateSamples                          atomic.Uint64 // samples since the last status tick

	mu         sync.Mutex
	start      time.Time
	connSince  time.Time // zero when disconnected
	connected  time.Duration
	gapRanges  []GapRange
	dropRanges []SeqRange
	lastSeq    uint32
	seqSeen    bool // lastSeq is set
	epoch      string
	epochs     map[string]int // order of first appearance, for sorting ranges
}

// epochOrder is e's place in the order epochs appeared; mu must be held.
func (s *stats) epochOrder(e string) int {
	if s.epochs == nil {
		s.epochs = map[string]int{}
	}
	i, ok := s.epochs[e]
	if !ok {
		i = len(s.epochs)
		s.epochs[e] = i
	}
	return i
}

func (s *stats) setEpoch(e string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.epoch = e
	s.epochOrder(e)
}

func (s *stats) setConnected(on bool, now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if on && s.connSince.IsZero() {
		s.connSince = now
	}
	if !on && !s.connSince.IsZero() {
		s.connected += now.Sub(s.connSince)
		s.connSince = time.Time{}
	}
}

func (s *stats) addGap(g GapRange) {
	s.gaps.Add(1)
	s.lost.Add(g.Count)
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.gapRanges) < maxListed {
		s.gapRanges = append(s.gapRanges, g)
	}
}

func (s *stats) addDropRanges(r []SeqRange) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, x := range r {
		s.dropRanges = mergeRange(s.dropRanges, x, s.epochOrder)
	}
	if len(s.dropRanges) > maxListed {
		s.dropRanges = s.dropRanges[:maxListed]
	}
}

func (s *stats) setLastSeq(seq uint32) {
	s.mu.Lock()
	s.lastSeq, s.seqSeen = seq, true
	s.mu.Unlock()
}

// connectedFor is the time connected so far and whether connected now.
func (s *stats) connectedFor(now time.Time) (time.Duration, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d := s.connected
	if !s.connSince.IsZero() {
		d += now.Sub(s.connSince)
	}
	return d, !s.connSince.IsZero()
}

func (s *stats) summary(q *queue, now time.Time) Summary {
	conn, _ := s.connectedFor(now)
	df, ds := q.dropTotals()
	n := s.connections.Load()
	sum := Summary{
		Duration: now.Sub(s.start), DurationS: now.Sub(s.start).Seconds(), ConnectedS: conn.Seconds(),
		Connections: n, Frames: s.frames.Load(), Samples: s.samples.Load(), BytesWritten: s.bytesWritten.Load(),
		Gaps: s.gaps.Load(), LostFrames: s.lost.Load(), Duplicates: s.duplicates.Load(), Restarts: s.restarts.Load(),
		DroppedFrames: df, DroppedSamples: ds, BadPackets: s.badPackets.Load(), WriteErrors: s.writeErrors.Load(),
		Commands: s.commands.Load(), Replies: s.replies.Load(), Errors: s.errors.Load(),
		InfoNotWritten: s.infoNotWritten.Load(), RepliesTruncated: s.repliesTruncated.Load(), LinesLost: q.lostLines(),
	}
	if n > 0 {
		sum.Reconnects = n - 1
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	sum.GapRanges = append([]GapRange{}, s.gapRanges...)
	sum.DropRanges = append([]SeqRange{}, s.dropRanges...)
	sum.Epoch = s.epoch
	if s.seqSeen {
		last := s.lastSeq
		sum.LastSeq = &last
	}
	return sum
}
