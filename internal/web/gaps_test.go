package web

import (
	"net/http/httptest"
	"testing"
	"time"
)

// TestPageCountsEveryLostFrame corrupts bytes on the simulated serial line:
// serve drops the damaged frames and announces device gaps. The page must
// count each gap once, under its reason, and its lost-frame count must be
// exactly the seqs it never received.
func TestPageCountsEveryLostFrame(t *testing.T) {
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

// TestGapsCountEachLossOnce drives gaps.js with message and frame orders
// serve produces: a gap replayed after a resume, one jump announced by two
// messages, a loss before the first frame, an announced loss cut off by a
// restart, and a jump explained only afterwards.
func TestGapsCountEachLossOnce(t *testing.T) {
	tb := newTab(t)
	srv := httptest.NewServer(Handler())
	t.Cleanup(srv.Close)
	tb.run(navigate(srv.URL + "/"))
	var got map[string]string
	tb.eval(`(async () => {
	  const { Gaps } = await import("/js/gaps.js");
	  const gap = (from, to, reason) => ({ type: "gap", from, to, count: to - from + 1, reason });
	  const run = (steps) => {
	    const S = { gaps: 0, lostFrames: 0, gapsByReason: {}, restarts: 0, lastSeq: null };
	    const g = new Gaps(S, () => {}, () => {});
	    for (const s of steps) typeof s === "number" ? g.frame(s, 10) : s === "restart" ? g.restart() : g.message(s);
	    const by = Object.entries(S.gapsByReason).filter(([, v]) => v).sort().map(([k, v]) => k + ":" + v).join(",");
	    return "lost " + S.lostFrames + " gaps " + S.gaps + " " + by + " restarts " + S.restarts + " seqs " + S.firstSeq + ".." + S.lastSeq;
	  };
	  return {
	    replayed: run([0, 1, gap(2, 4, "device"), gap(2, 4, "device"), 5]),
	    twoMessages: run([0, gap(1, 2, "device"), gap(3, 4, "slow_client"), 5]),
	    beforeFirst: run([gap(10, 19, "history"), 20, 21]),
	    restart: run([0, gap(1, 2, "device"), "restart", 0]),
	    explainedLater: run([0, 3, gap(1, 2, "device"), 4]),
	  };
	})()`, &got)
	want := map[string]string{
		"replayed":       "lost 3 gaps 1 device:1 restarts 0 seqs 0..5",
		"twoMessages":    "lost 4 gaps 2 device:1,slow_client:1 restarts 0 seqs 0..5",
		"beforeFirst":    "lost 10 gaps 1 history:1 restarts 0 seqs 20..21",
		"restart":        "lost 2 gaps 1 device:1 restarts 1 seqs 0..0",
		"explainedLater": "lost 2 gaps 1 device:1 restarts 0 seqs 0..4",
	}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("%s: %s, want %s", k, got[k], w)
		}
	}
	tb.noProblems()
}
