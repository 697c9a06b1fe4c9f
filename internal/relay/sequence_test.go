package relay

import (
	"testing"

	"github.com/rs/zerolog"

	"github.com/wsbridge/wsbridge/internal/testsupport"
	"github.com/wsbridge/wsbridge/internal/wsproto"
)

// Frames behind the count reach the channel (capture hands them on) and
// are told apart exactly: duplicates of frames published, late frames
// whose gap was reported before they came. Each kind is counted in the
// relay's one family of sequence metrics and logged at most once a
// second however many come; clients get neither (issue 13.4).
func TestSequenceBehindCountedAndLogged(t *testing.T) {
	s, base := testServer(t, Options{})
	var log testsupport.SyncBuffer
	s.hub.log = zerolog.New(&log)
	c := testsupport.Dial(t, wsURL(base, ""), nil)
	epoch := testsupport.ExpectHello(t, c).Epoch
	publish(t, s, 0, 10)
	for range 1000 {
		publish(t, s, 5, 8) // three frames 2 to 5 behind, again and again
	}
	publish(t, s, 10, 11)
	publish(t, s, 15, 20) // gap 11..14
	publish(t, s, 12, 13) // late: its gap was reported
	publish(t, s, 20, 21)

	expectFrames(t, c, 0, 11)
	if g := expectMsg(t, c, wsproto.TypeGap).gap; g != (wsproto.Gap{Type: "gap", From: 11, To: 14, Count: 4, Reason: wsproto.GapDevice, Epoch: epoch}) {
		t.Fatalf("gap = %+v", g)
	}
	expectFrames(t, c, 15, 21)
	in := s.Info().Counters
	if in["frames_duplicate_total"] != 3000 || in["frames_late_total"] != 1 || in["device_gaps_total"] != 1 ||
		in["device_gap_frames_total"] != 4 || in["frames_received_total"] != 17 {
		t.Fatalf("counters %v", in)
	}
	if n := len(log.LogEntries("duplicate frame dropped")); n < 1 || n > 2 {
		t.Errorf("%d duplicate warnings for 3000 duplicates in well under 2 s, want 1 or 2:\n%s", n, log.String())
	}
	late, lost := log.LogEntries("late frame dropped"), log.LogEntries("frames lost between the device and serve")
	if len(late) != 1 || late[0]["seq"] != 12.0 || len(lost) != 1 || lost[0]["from"] != 11.0 {
		t.Errorf("want one late and one gap warning:\n%s", log.String())
	}
}
