package relay

import (
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/wsbridge/wsbridge/internal/frame"
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
		c := dial(t, wsURL(base, q), nil)
		h := expectHello(t, c)
		want := map[string]string{"": "binary", "format=binary": "binary", "format=json": "json", "format=csv": "csv"}[q]
		if h.Format != want || h.Protocol != wsproto.Version || h.Seq != 10 || h.StartSeq != 10 ||
			h.DeviceState != wsproto.StateUp || h.Device == nil || h.Device.Name != "sim" ||
			h.Rate != tRate || h.Channels != tChans || h.SampleType != "i16" || h.Commands ||
			h.History.Frames != 10 || h.History.FirstSeq != 0 || h.History.LastSeq != 9 || h.History.SpanMS != 30000 {
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

	c := dial(t, wsURL(base, "since=60&format=json"), nil)
	if h := expectHello(t, c); h.StartSeq != 60 || h.Seq != 100 || h.History.FirstSeq != 50 || h.History.Frames != 50 {
		t.Fatalf("hello = %+v", h)
	}
	expectFrames(t, c, 60, 100)
	publish(t, s, 100, 120)
	expectFrames(t, c, 100, 120)

	old := dial(t, wsURL(base, "since=10"), nil)
	if h := expectHello(t, old); h.StartSeq != 70 { // the ring now holds 70..119
		t.Fatalf("hello = %+v", h)
	}
	g := expectMsg(t, old, wsproto.TypeGap).gap
	if g.From != 10 || g.To != 69 || g.Count != 60 || g.Reason != wsproto.GapHistory {
		t.Fatalf("gap = %+v, want history 10..69", g)
	}
	expectFrames(t, old, 70, 120)

	now := dial(t, wsURL(base, "since=120"), nil)
	if h := expectHello(t, now); h.StartSeq != 120 {
		t.Fatalf("hello = %+v", h)
	}
	publish(t, s, 120, 121)
	expectFrames(t, now, 120, 121)
}

// A since ahead of the newest frame (a client from before a device
// restart) is told so and gets what the history holds since the restart.
func TestResumeAheadAfterRestart(t *testing.T) {
	s, base := testServer(t, Options{})
	publish(t, s, 0, 500)
	publish(t, s, 0, 5) // the device restarted
	c := dial(t, wsURL(base, "since=500"), nil)
	if h := expectHello(t, c); h.StartSeq != 0 || h.Seq != 5 {
		t.Fatalf("hello = %+v", h)
	}
	st := expectMsg(t, c, wsproto.TypeStatus).status
	if st.State != wsproto.StateRestart || st.Seq != 0 {
		t.Fatalf("status = %+v, want restart at 0", st)
	}
	expectFrames(t, c, 0, 5)
}

// Device gaps and restarts go to live and resuming clients, exactly and in
// order with the frames.
func TestDeviceGapAndRestart(t *testing.T) {
	s, base := testServer(t, Options{})
	live := dial(t, wsURL(base, ""), nil)
	expectHello(t, live)
	publish(t, s, 0, 10)
	publish(t, s, 20, 30)
	publish(t, s, 25, 26) // a duplicate: dropped
	publish(t, s, 0, 3)   // restart
	expectFrames(t, live, 0, 10)
	if g := expectMsg(t, live, wsproto.TypeGap).gap; g != (wsproto.Gap{Type: "gap", From: 10, To: 19, Count: 10, Reason: wsproto.GapDevice}) {
		t.Fatalf("gap = %+v", g)
	}
	expectFrames(t, live, 20, 30)
	if st := expectMsg(t, live, wsproto.TypeStatus).status; st.State != wsproto.StateRestart || st.Seq != 0 {
		t.Fatalf("status = %+v", st)
	}
	expectFrames(t, live, 0, 3)

	// Resuming inside the device gap: the gap is clipped to start at since.
	publish(t, s, 3, 10)
	publish(t, s, 15, 20)
	r := dial(t, wsURL(base, "since=12&format=csv"), nil)
	expectHello(t, r)
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
	live := dial(t, wsURL(base, ""), nil)
	expectHello(t, live)
	for seq := start; seq != 10; seq += 10 { // ..., 4294967295, 0, ..., 9: 40 frames
		publish(t, s, seq, seq+10)
		expectFrames(t, live, seq, seq+10)
	}
	r := dial(t, wsURL(base, "since=4294967294"), nil) // the ring holds 4294967286..9
	if h := expectHello(t, r); h.StartSeq != 4294967294 || h.History.FirstSeq != 1<<32-10 || h.History.LastSeq != 9 {
		t.Fatalf("hello = %+v", h)
	}
	expectFrames(t, r, 1<<32-2, 10)
	old := dial(t, wsURL(base, "since=4294967270"), nil)
	expectHello(t, old)
	if g := expectMsg(t, old, wsproto.TypeGap).gap; g.From != 1<<32-26 || g.To != 1<<32-11 || g.Count != 16 || g.Reason != wsproto.GapHistory {
		t.Fatalf("gap = %+v", g)
	}
	expectFrames(t, old, 1<<32-10, 10)
	if c := s.Info().Counters; c["device_gaps_total"] != 0 || c["device_restarts_total"] != 0 {
		t.Fatalf("wrap counted as a fault: %v", c)
	}
}

// A since slightly ahead of the newest frame, with no restart seen (this
// serve just started), waits for that frame: nothing before it, nothing
// missing after it.
func TestResumeSlightlyAhead(t *testing.T) {
	s, base := testServer(t, Options{})
	publish(t, s, 1000, 1010)
	c := dial(t, wsURL(base, "since=1013"), nil)
	if h := expectHello(t, c); h.StartSeq != 1013 || h.Seq != 1010 {
		t.Fatalf("hello = %+v", h)
	}
	publish(t, s, 1010, 1020)
	expectFrames(t, c, 1013, 1020)
}
