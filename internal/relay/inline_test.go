//go:build linux

// Inline writes need a write that never waits (internal/pollio, Linux
// only); elsewhere TryCork refuses and every frame goes through the
// writers, which the other relay tests cover.

package relay

import (
	"context"
	"net"
	"net/http"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/wsbridge/wsbridge/internal/frame"
	"github.com/wsbridge/wsbridge/internal/testsupport"
	"github.com/wsbridge/wsbridge/internal/wsproto"
)

// Caught-up clients get their frames from the publisher's goroutine
// (inline.go), exactly as their writers would send them: binary and JSON
// clients read every frame in order, a device gap as one exact gap
// message between the frames around it, and a restart as a status before
// the new count; most frames go out inline.
func TestInlineWritesKeepOrderAndGaps(t *testing.T) {
	s, base := testServer(t, Options{History: time.Hour, PingInterval: time.Minute})
	bin := testsupport.Dial(t, wsURL(base, ""), nil)
	testsupport.ExpectHello(t, bin)
	js := testsupport.Dial(t, wsURL(base, "format=json"), nil)
	testsupport.ExpectHello(t, js)
	testsupport.WaitFor(t, 5*time.Second, "both clients connected", func() bool { return clients(s) == 2 })
	waitWritersParked(t, s)
	s.hub.inlineGap = 0 // every frame inline, however fast they come

	const n = 200
	publish(t, s, 0, n)
	publish(t, s, n+10, 2*n) // a device gap n..n+9
	s.Packet(counterPacket(t, 0, tCount, tChans, frame.I16))
	publish(t, s, 1, 5) // restarted: 0..4 of a new epoch
	for _, c := range []*websocket.Conn{bin, js} {
		expectFrames(t, c, 0, n)
		m := expectMsg(t, c, wsproto.TypeGap)
		if g := m.gap; g.From != n || g.To != n+9 || g.Count != 10 || g.Reason != wsproto.GapDevice {
			t.Fatalf("gap %+v, want %d..%d (10 frames, device)", g, n, n+9)
		}
		expectFrames(t, c, n+10, 2*n)
		if st := expectMsg(t, c, wsproto.TypeStatus).status; st.State != wsproto.StateRestart || st.Seq != 0 {
			t.Fatalf("status %+v, want the restart at seq 0", st)
		}
		expectFrames(t, c, 0, 5)
	}
	if w := s.stats.inlineWrites.Load(); w < n {
		t.Fatalf("%d batches written inline for 2 caught-up clients of %d frames each, want at least %d", w, 2*n-5, n)
	}
}

// A client whose socket takes only part of an inline batch gets the rest
// from its writer, in order: with a tiny receive buffer and a client that
// reads nothing for a while, the publisher never waits, the socket fills
// (inline writes end with bytes left corked, counted) and, once the
// client reads, every frame arrives exactly once, in order.
func TestInlineRestWrittenByWriter(t *testing.T) {
	s, base := testServer(t, Options{History: time.Hour, PingInterval: time.Minute, WriteTimeout: time.Minute})
	d := &net.Dialer{Control: func(_, _ string, rc syscall.RawConn) error {
		var serr error
		err := rc.Control(func(fd uintptr) { serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 2048) })
		if err != nil {
			return err
		}
		return serr
	}}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, wsURL(base, ""), &websocket.DialOptions{
		HTTPClient: &http.Client{Transport: &http.Transport{DialContext: d.DialContext}}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	c.SetReadLimit(1 << 20)
	testsupport.ExpectHello(t, c)
	testsupport.WaitFor(t, 5*time.Second, "the client connected", func() bool { return clients(s) == 1 })
	waitWritersParked(t, s)
	s.hub.inlineGap = 0
	s.srv.mu.Lock()
	for cl := range s.srv.clients { // a small send buffer too: loopback's grows to megabytes
		if err := cl.cork.Conn.(*net.TCPConn).SetWriteBuffer(2048); err != nil {
			t.Fatal(err)
		}
	}
	s.srv.mu.Unlock()

	const n = 60 // 8 kB frames: 480 kB, past the flow window and the sockets' buffers
	for seq := uint32(0); seq < n; seq++ {
		s.Packet(counterPacket(t, seq, bigCount, tChans, frame.I16))
	}
	if s.stats.inlineRest.Load() == 0 {
		t.Fatalf("no inline write was left for the writer (%d inline batches): the socket took everything",
			s.stats.inlineWrites.Load())
	}
	for seq := uint32(0); seq < n; seq++ {
		m, err := read(t, c, 10*time.Second)
		if err != nil {
			t.Fatalf("frame %d: %v", seq, err)
		}
		if m.typ != "frame" || m.seq != seq {
			t.Fatalf("got %s %d, want frame %d", m.typ, m.seq, seq)
		}
	}
	for seq := uint32(n); seq < n+20; seq++ { // caught up again: inline, whole
		s.Packet(counterPacket(t, seq, bigCount, tChans, frame.I16))
		m, err := read(t, c, 10*time.Second)
		if err != nil || m.typ != "frame" || m.seq != seq {
			t.Fatalf("got %s %d (%v), want frame %d", m.typ, m.seq, err, seq)
		}
	}
	if cs := s.Info().Counters; cs["slow_client_skips_total"] != 0 || cs["client_write_timeouts_total"] != 0 {
		t.Fatalf("counters %v", cs)
	}
}

// With Hold, the frames a source publishes in a burst go to a caught-up
// client in one inline batch at Flush, in order; without it, one batch
// each.
func TestHoldWritesABurstTogether(t *testing.T) {
	s, base := testServer(t, Options{History: time.Hour, PingInterval: time.Minute})
	c := testsupport.Dial(t, wsURL(base, ""), nil)
	testsupport.ExpectHello(t, c)
	testsupport.WaitFor(t, 5*time.Second, "the client connected", func() bool { return clients(s) == 1 })
	waitWritersParked(t, s)
	s.hub.inlineGap = 0
	var cl *client
	s.srv.mu.Lock()
	for k := range s.srv.clients {
		cl = k
	}
	s.srv.mu.Unlock()
	parked := func() bool { return cl.state.Load() == writerParked }
	publish(t, s, 0, 1)
	expectFrames(t, c, 0, 1)
	testsupport.WaitFor(t, 5*time.Second, "the writer parked", parked)

	w0 := s.stats.inlineWrites.Load()
	s.Hold(true)
	publish(t, s, 1, 7)
	s.Flush()
	if w := s.stats.inlineWrites.Load() - w0; w != 1 {
		t.Fatalf("%d inline batches for a burst of 6 frames held, want 1", w)
	}
	expectFrames(t, c, 1, 7)
	s.Hold(false)
	publish(t, s, 7, 10)
	if w := s.stats.inlineWrites.Load() - w0; w != 4 {
		t.Fatalf("%d inline batches after 3 more frames not held, want 1 + 3", w)
	}
	expectFrames(t, c, 7, 10)
}

// waitWritersParked waits until every client's writer has sent what it
// had (the hello) and parked on the hub: only then may a frame go out
// inline. On a loaded machine (-race, parallel packages) a writer can
// still be busy when the first frames come, and they all go to it.
func waitWritersParked(t *testing.T, s *Channel) {
	t.Helper()
	testsupport.WaitFor(t, 5*time.Second, "the clients' writers parked", func() bool {
		s.srv.mu.Lock()
		defer s.srv.mu.Unlock()
		for cl := range s.srv.clients {
			if cl.state.Load() != writerParked {
				return false
			}
		}
		return true
	})
}
