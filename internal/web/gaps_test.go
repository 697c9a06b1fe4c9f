package web

import (
	"testing"
	"time"
)

// TestPageCountsEveryLostFrame corrupts bytes on the simulated serial line:
// serve drops the damaged frames and announces device gaps. The page must
// count each gap once, under its reason, and its lost-frame count must be
// exactly the seqs it never received.
func TestPageCountsEveryLostFrame(t *testing.T) {
	parallelPage(t, light)
	tb := newTab(t)
	srv := startServe(t, simOpts{Signal: "sine", Rate: 8000, Channels: 1, Corrupt: 2e-4})
	tb.open(srv.URL)
	tb.waitFor("a few device gaps", `wsbridge.gaps >= 3`, 20*time.Second)
	tb.run(setWindow("10"))
	var s struct {
		Frames     int64          `json:"frames"`
		FirstSeq   int64          `json:"firstSeq"`
		LastSeq    int64          `json:"lastSeq"`
		Gaps       int64          `json:"gaps"`
		LostFrames int64          `json:"lostFrames"`
		ByReason   map[string]int `json:"gapsByReason"`
		Restarts   int64          `json:"restarts"`
		BadPackets int64          `json:"badPackets"`
	}
	// One read, in one task of the page: the counters move together with
	// each frame (a gap message only names the reason of a loss the next
	// frame reveals), so any moment is a consistent one.
	tb.eval(`({frames: wsbridge.frames, firstSeq: wsbridge.firstSeq, lastSeq: wsbridge.lastSeq, gaps: wsbridge.gaps,
		lostFrames: wsbridge.lostFrames, gapsByReason: wsbridge.gapsByReason, restarts: wsbridge.restarts,
		badPackets: wsbridge.badPackets})`, &s)
	t.Logf("%+v", s)
	if s.Restarts != 0 || s.BadPackets != 0 {
		t.Fatalf("restarts %d bad packets %d: serve must forward only valid frames", s.Restarts, s.BadPackets)
	}
	if missing := s.LastSeq - s.FirstSeq + 1 - s.Frames; s.LostFrames != missing {
		t.Errorf("page counts %d lost frames; seqs %d..%d with %d received means %d missing", s.LostFrames, s.FirstSeq, s.LastSeq, s.Frames, missing)
	}
	if s.ByReason["device"] != int(s.Gaps) || s.ByReason["unannounced"] != 0 {
		t.Errorf("gaps by reason %v of %d: want every gap announced by serve as a device gap", s.ByReason, s.Gaps)
	}
	tb.waitFor("lost frames shown", `document.getElementById("m-lost").textContent !== "0" &&
		document.getElementById("m-gaps").title.startsWith("device:")`, 3*time.Second)
	tb.noProblems()
}
