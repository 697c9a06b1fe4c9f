package relay

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/wsbridge/wsbridge/internal/frame"
	"github.com/wsbridge/wsbridge/internal/testsupport"
	"github.com/wsbridge/wsbridge/internal/wsproto"
)

// Several clients in every format get every frame, in order, with exact
// counter samples; hello comes first with the device description.
func TestFanOutAllFormats(t *testing.T) {
	s, base := testServer(t, Options{})
	publish(t, s, 0, 10) // before anyone connects: not sent to live clients
	info := frame.DeviceInfo{Rate: tRate, Channels: tChans, SampleType: frame.I16, FrameSamples: tCount, Name: "sim", Firmware: "1.0"}
	s.Packet(&frame.Packet{Type: frame.TypeInfo, Info: info})
	queries := []string{"", "format=binary", "format=json", "format=csv", "format=json", ""}
	conns := make([]*websocket.Conn, len(queries))
	for i, q := range queries {
		c := testsupport.Dial(t, wsURL(base, q), nil)
		h := testsupport.ExpectHello(t, c)
		want := map[string]string{"": "binary", "format=binary": "binary", "format=json": "json", "format=csv": "csv"}[q]
		if h.Format != want || h.Protocol != wsproto.Version || h.Seq != 10 || h.StartSeq != 10 ||
			h.DeviceState != wsproto.StateUp || h.Device == nil || h.Device.Name != "sim" ||
			h.Rate != tRate || h.Channels != tChans || h.SampleType != "i16" || h.Commands ||
			h.History.Frames != 10 || h.History.FirstSeq != 0 || h.History.LastSeq != 9 || h.History.SpanMS != 10 { // 10 frames of 1 ms held, not the 30 s --history
			t.Fatalf("client %q hello = %+v", q, h)
		}
		conns[i] = c
	}
	publish(t, s, 10, 510)
	for _, c := range conns {
		expectFrames(t, c, 10, 510)
	}
	if got := s.Info().Counters["frames_received_total"]; got != 510 {
		t.Errorf("frames_received_total = %v, want 510", got)
	}
}

// Resuming with ?since gets every frame the history holds from SEQ, then
// live ones; older than the history, an exact history gap first.
func TestResumeSince(t *testing.T) {
	// 1 ms per frame, 50 ms of history: the ring holds 50 frames.
	s, base := testServer(t, Options{History: 50 * time.Millisecond})
	publish(t, s, 0, 100) // holds 50..99

	c := testsupport.Dial(t, wsURL(base, "since=60&format=json"), nil)
	if h := testsupport.ExpectHello(t, c); h.StartSeq != 60 || h.Seq != 100 || h.History.FirstSeq != 50 || h.History.Frames != 50 {
		t.Fatalf("hello = %+v", h)
	}
	expectFrames(t, c, 60, 100)
	publish(t, s, 100, 120)
	expectFrames(t, c, 100, 120)

	old := testsupport.Dial(t, wsURL(base, "since=10"), nil)
	if h := testsupport.ExpectHello(t, old); h.StartSeq != 70 { // the ring now holds 70..119
		t.Fatalf("hello = %+v", h)
	}
	g := expectMsg(t, old, wsproto.TypeGap).gap
	if g.From != 10 || g.To != 69 || g.Count != 60 || g.Reason != wsproto.GapHistory {
		t.Fatalf("gap = %+v, want history 10..69", g)
	}
	expectFrames(t, old, 70, 120)

	now := testsupport.Dial(t, wsURL(base, "since=120"), nil)
	if h := testsupport.ExpectHello(t, now); h.StartSeq != 120 {
		t.Fatalf("hello = %+v", h)
	}
	publish(t, s, 120, 121)
	expectFrames(t, now, 120, 121)
}

// A since ahead of the newest frame without an epoch (a client from
// before a device restart, or from before epochs) is told at once that
// the count started over, and gets what the history holds since.
func TestResumeAheadAfterRestart(t *testing.T) {
	s, base := testServer(t, Options{})
	publish(t, s, 0, 500)
	publish(t, s, 0, 5) // the device restarted
	c := testsupport.Dial(t, wsURL(base, "since=500"), nil)
	h := testsupport.ExpectHello(t, c)
	if h.StartSeq != 0 || h.Seq != 5 || h.History.Epoch != h.Epoch || h.History.Frames != 5 || h.History.FirstSeq != 0 {
		t.Fatalf("hello = %+v", h)
	}
	st := expectMsg(t, c, wsproto.TypeStatus).status
	if st.State != wsproto.StateRestart || st.Seq != 0 || st.Epoch != h.Epoch {
		t.Fatalf("status = %+v, want restart at 0 in epoch %s", st, h.Epoch)
	}
	expectFrames(t, c, 0, 5)
}

// The resume table with epochs (issue 13.1): the same epoch resumes
// exactly, another epoch is answered at once with a restart status and a
// replay of the current epoch (with a history gap when its start was
// trimmed), whatever since says.
func TestResumeEpochs(t *testing.T) {
	s, base := testServer(t, Options{History: 50 * time.Millisecond}) // 50 frames
	first := testsupport.Dial(t, wsURL(base, "format=json"), nil)
	h0 := testsupport.ExpectHello(t, first)
	if len(h0.Epoch) != 8 || h0.Channel != "default" {
		t.Fatalf("hello epoch %q channel %q: want 8 hex digits and the channel's name", h0.Epoch, h0.Channel)
	}
	publish(t, s, 0, 30)
	if m := expectMsg(t, first, "frame"); !strings.Contains(string(m.raw), `{"type":"frame","epoch":"`+h0.Epoch+`","seq":0,`) {
		t.Fatalf("json frame does not carry its epoch: %s", m.raw)
	}

	same := testsupport.Dial(t, wsURL(base, "since=20&epoch="+h0.Epoch), nil)
	if h := testsupport.ExpectHello(t, same); h.Epoch != h0.Epoch || h.StartSeq != 20 {
		t.Fatalf("same epoch: hello = %+v", h)
	}
	expectFrames(t, same, 20, 30)

	// The device restarts at 0 and sends 80 frames: the ring holds the new
	// epoch's 30..79 only.
	publish(t, s, 0, 80)
	for _, q := range []string{"since=20&epoch=" + h0.Epoch, "since=5&epoch=" + h0.Epoch, "since=5&epoch=deadbeef", "since=81"} {
		c := testsupport.Dial(t, wsURL(base, q), nil)
		h := testsupport.ExpectHello(t, c)
		if h.Epoch == h0.Epoch || h.StartSeq != 30 || h.History.FirstSeq != 30 || h.History.Epoch != h.Epoch {
			t.Fatalf("%s: hello = %+v, want a new epoch starting at 30", q, h)
		}
		st := expectMsg(t, c, wsproto.TypeStatus).status
		if st.State != wsproto.StateRestart || st.Seq != 0 || st.Epoch != h.Epoch {
			t.Fatalf("%s: status = %+v, want restart at 0 in %s", q, st, h.Epoch)
		}
		g := expectMsg(t, c, wsproto.TypeGap).gap
		if g != (wsproto.Gap{Type: wsproto.TypeGap, From: 0, To: 29, Count: 30, Reason: wsproto.GapHistory, Epoch: h.Epoch}) {
			t.Fatalf("%s: gap = %+v, want history 0..29 in %s", q, g, h.Epoch)
		}
		expectFrames(t, c, 30, 80)
	}
}

// A resume from another epoch before the current epoch has any frame (a
// serve that just started, with a device still silent) is not held back:
// hello names the new epoch at once, and the restart status comes just
// before the first frame, with its seq.
func TestResumeOtherEpochBeforeFirstFrame(t *testing.T) {
	s, base := testServer(t, Options{})
	c := testsupport.Dial(t, wsURL(base, "since=500&epoch=0badc0de"), nil)
	h := testsupport.ExpectHello(t, c)
	if h.Epoch == "0badc0de" || h.Epoch == "" {
		t.Fatalf("hello = %+v", h)
	}
	publish(t, s, 7, 10)
	st := expectMsg(t, c, wsproto.TypeStatus).status
	if st.State != wsproto.StateRestart || st.Seq != 7 || st.Epoch != h.Epoch {
		t.Fatalf("status = %+v, want restart at 7 in %s", st, h.Epoch)
	}
	expectFrames(t, c, 7, 10)
}

// Device gaps and restarts go to live and resuming clients, exactly and in
// order with the frames.
func TestDeviceGapAndRestart(t *testing.T) {
	s, base := testServer(t, Options{})
	live := testsupport.Dial(t, wsURL(base, ""), nil)
	e0 := testsupport.ExpectHello(t, live).Epoch
	publish(t, s, 0, 10)
	publish(t, s, 20, 30)
	publish(t, s, 25, 26) // a duplicate: dropped
	publish(t, s, 0, 3)   // restart
	expectFrames(t, live, 0, 10)
	if g := expectMsg(t, live, wsproto.TypeGap).gap; g != (wsproto.Gap{Type: "gap", From: 10, To: 19, Count: 10, Reason: wsproto.GapDevice, Epoch: e0}) {
		t.Fatalf("gap = %+v, want device 10..19 in %s", g, e0)
	}
	expectFrames(t, live, 20, 30)
	if st := expectMsg(t, live, wsproto.TypeStatus).status; st.State != wsproto.StateRestart || st.Seq != 0 || st.Epoch == e0 || len(st.Epoch) != 8 {
		t.Fatalf("status = %+v, want restart at 0 with a new epoch", st)
	}
	expectFrames(t, live, 0, 3)

	// Resuming inside the device gap: the gap is clipped to start at since.
	publish(t, s, 3, 10)
	publish(t, s, 15, 20)
	r := testsupport.Dial(t, wsURL(base, "since=12&format=csv"), nil)
	testsupport.ExpectHello(t, r)
	if g := expectMsg(t, r, wsproto.TypeGap).gap; g.From != 12 || g.To != 14 || g.Count != 3 || g.Reason != wsproto.GapDevice {
		t.Fatalf("clipped gap = %+v", g)
	}
	expectFrames(t, r, 15, 20)

	in := s.Info().Counters
	if in["device_gaps_total"] != 2 || in["device_gap_frames_total"] != 15 || in["frames_duplicate_total"] != 1 || in["device_restarts_total"] != 1 {
		t.Fatalf("counters = %v", in)
	}
}

// Sequence numbers wrap at 2^32: live and resuming clients see one
// contiguous stream across the wrap, and a history gap across it is exact.
func TestSeqWrap(t *testing.T) {
	s, base := testServer(t, Options{History: 20 * time.Millisecond}) // 20 frames
	const start = uint32(1<<32 - 30)
	live := testsupport.Dial(t, wsURL(base, ""), nil)
	testsupport.ExpectHello(t, live)
	for seq := start; seq != 10; seq += 10 { // ..., 4294967295, 0, ..., 9: 40 frames
		publish(t, s, seq, seq+10)
		expectFrames(t, live, seq, seq+10)
	}
	r := testsupport.Dial(t, wsURL(base, "since=4294967294"), nil) // the ring holds 4294967286..9
	if h := testsupport.ExpectHello(t, r); h.StartSeq != 4294967294 || h.History.FirstSeq != 1<<32-10 || h.History.LastSeq != 9 {
		t.Fatalf("hello = %+v", h)
	}
	expectFrames(t, r, 1<<32-2, 10)
	old := testsupport.Dial(t, wsURL(base, "since=4294967270"), nil)
	testsupport.ExpectHello(t, old)
	if g := expectMsg(t, old, wsproto.TypeGap).gap; g.From != 1<<32-26 || g.To != 1<<32-11 || g.Count != 16 || g.Reason != wsproto.GapHistory {
		t.Fatalf("gap = %+v", g)
	}
	expectFrames(t, old, 1<<32-10, 10)
	if c := s.Info().Counters; c["device_gaps_total"] != 0 || c["device_restarts_total"] != 0 {
		t.Fatalf("wrap counted as a fault: %v", c)
	}
}

// A since slightly ahead of the newest frame in the same epoch waits for
// that frame: nothing before it, nothing missing after it. Without an
// epoch, or with another, the same since is a restart at once (issue
// 13.1: a fresh serve must not make an old client wait).
func TestResumeSlightlyAhead(t *testing.T) {
	s, base := testServer(t, Options{})
	publish(t, s, 1000, 1010)
	epoch := s.Info().Epoch
	c := testsupport.Dial(t, wsURL(base, "since=1013&epoch="+epoch), nil)
	if h := testsupport.ExpectHello(t, c); h.StartSeq != 1013 || h.Seq != 1010 {
		t.Fatalf("hello = %+v", h)
	}
	for _, q := range []string{"since=1013", "since=1013&epoch=feedf00d"} {
		r := testsupport.Dial(t, wsURL(base, q), nil)
		testsupport.ExpectHello(t, r)
		m, err := read(t, r, 500*time.Millisecond)
		if err != nil || m.typ != wsproto.TypeStatus || m.status.State != wsproto.StateRestart || m.status.Seq != 1000 || m.status.Epoch != epoch {
			t.Fatalf("%s: got %+v, %v; want a restart status at once", q, m, err)
		}
		expectFrames(t, r, 1000, 1010)
	}
	publish(t, s, 1010, 1020)
	expectFrames(t, c, 1013, 1020)
}

// A client that was away while the device restarted, and whose epoch's
// tail is still held, gets that tail, then the restart status, then the
// new count: nothing it could still have is lost (before, it got the
// restart at once and the old epoch's frames after its resume point were
// skipped without a gap). Hello names the epoch the connection starts in.
func TestResumeEarlierEpochStillHeld(t *testing.T) {
	s, base := testServer(t, Options{})
	c0 := testsupport.Dial(t, wsURL(base, ""), nil)
	e0 := testsupport.ExpectHello(t, c0).Epoch
	publish(t, s, 0, 30)
	publish(t, s, 0, 5) // the device restarts: a new epoch
	expectFrames(t, c0, 0, 30)
	e1 := expectMsg(t, c0, wsproto.TypeStatus).status.Epoch
	if e1 == e0 || e1 == "" {
		t.Fatalf("restart epoch %q after %q", e1, e0)
	}
	for _, tc := range []struct {
		since uint32
		from  uint32 // first old frame expected
	}{{20, 20}, {30, 30}, {0, 0}} {
		q := fmt.Sprintf("since=%d&epoch=%s", tc.since, e0)
		c := testsupport.Dial(t, wsURL(base, q), nil)
		if h := testsupport.ExpectHello(t, c); h.Epoch != e0 || h.StartSeq != tc.since || h.History.Epoch != e1 {
			t.Fatalf("%s: hello epoch %q start_seq %d history.epoch %q, want %s, %d, %s", q, h.Epoch, h.StartSeq, h.History.Epoch, e0, tc.since, e1)
		}
		expectFrames(t, c, tc.from, 30)
		if st := expectMsg(t, c, wsproto.TypeStatus).status; st.State != wsproto.StateRestart || st.Seq != 0 || st.Epoch != e1 {
			t.Fatalf("%s: status = %+v, want the restart into %s at 0", q, st, e1)
		}
		expectFrames(t, c, 0, 5)
	}
	// Beyond what the earlier epoch sent: nothing to resume, a restart.
	c := testsupport.Dial(t, wsURL(base, "since=40&epoch="+e0), nil)
	if h := testsupport.ExpectHello(t, c); h.Epoch != e1 || h.StartSeq != 0 {
		t.Fatalf("since beyond the earlier epoch: hello = %+v, want the current epoch from 0", h)
	}
	if st := expectMsg(t, c, wsproto.TypeStatus).status; st.State != wsproto.StateRestart || st.Epoch != e1 {
		t.Fatalf("status = %+v, want a restart into %s", st, e1)
	}
	expectFrames(t, c, 0, 5)
}

// Restart: a source that knows the device started over (a Wi-Fi board
// back with a new boot id) makes the next frame begin a new epoch, even
// when its seq would look in order.
func TestChannelRestartFromTheSource(t *testing.T) {
	s, base := testServer(t, Options{})
	c := testsupport.Dial(t, wsURL(base, ""), nil)
	e0 := testsupport.ExpectHello(t, c).Epoch
	publish(t, s, 0, 10)
	s.Restart("the device rebooted (boot b2, was b1)")
	publish(t, s, 10, 15)
	expectFrames(t, c, 0, 10)
	st := expectMsg(t, c, wsproto.TypeStatus).status
	if st.State != wsproto.StateRestart || st.Seq != 10 || st.Epoch == e0 || st.Reason != "the device rebooted (boot b2, was b1)" {
		t.Fatalf("status = %+v, want a restart at 10 into a new epoch, with the source's reason", st)
	}
	expectFrames(t, c, 10, 15)
	if got := s.Epoch(); got != st.Epoch {
		t.Fatalf("channel epoch %s, want %s", got, st.Epoch)
	}
}
