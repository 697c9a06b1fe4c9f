package relay

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/wsbridge/wsbridge/internal/frame"
	"github.com/wsbridge/wsbridge/internal/testsupport"
	"github.com/wsbridge/wsbridge/internal/wsproto"
)

// bigCount frames: 2000 instants x 2 ch x i16 = 8 kB, 125 ms at 16 kHz.
const bigCount = 2000

// slowSetup starts a server holding 1 s of history (8 big frames), a
// fast reader counting frames, and a client that does not read.
func slowSetup(t *testing.T, policy string) (*Channel, *websocket.Conn, *atomic.Uint32, chan error) {
	s, base := testServer(t, Options{History: time.Second, SlowClient: policy,
		WriteTimeout: time.Minute, PingInterval: time.Minute})
	fast := testsupport.Dial(t, wsURL(base, ""), nil)
	testsupport.ExpectHello(t, fast)
	slow := testsupport.Dial(t, wsURL(base, ""), nil)
	testsupport.ExpectHello(t, slow)
	var got atomic.Uint32
	errc := make(chan error, 1)
	go func() { // the fast client checks every seq arrives, in order
		for seq := uint32(0); ; seq++ {
			m, err := read(t, fast, 10*time.Second)
			if err == nil && (m.typ != "frame" || m.seq != seq) {
				err = &unexpected{m}
			}
			if err != nil {
				errc <- err
				return
			}
			got.Store(seq + 1)
		}
	}()
	return s, slow, &got, errc
}

type unexpected struct{ m msg }

func (u *unexpected) Error() string {
	return "unexpected message " + u.m.typ + ": " + string(u.m.raw[:min(len(u.m.raw), 200)])
}

// publishPaced publishes n big frames, never more than 4 ahead of the
// fast reader, so that only the non-reading client falls behind.
func publishPaced(t *testing.T, s *Channel, n uint32, got *atomic.Uint32, errc chan error) {
	for seq := uint32(0); seq < n; seq++ {
		s.Packet(counterPacket(t, seq, bigCount, tChans, frame.I16))
		deadline := time.Now().Add(10 * time.Second)
		for got.Load()+4 < seq+1 {
			select {
			case err := <-errc:
				t.Fatalf("fast client: %v", err)
			default:
			}
			if time.Now().After(deadline) {
				t.Fatalf("fast client stuck at %d while publishing %d", got.Load(), seq)
			}
			time.Sleep(50 * time.Microsecond)
		}
	}
	testsupport.WaitFor(t, 10*time.Second, "fast client to get every frame", func() bool { return got.Load() == n })
}

// A client that stops reading never delays or drops frames for another;
// when it reads again it gets an exact slow_client gap and continues, and
// the metrics count what it missed.
func TestSlowClientSkip(t *testing.T) {
	const n = 4000 // 32 MB: more than the socket buffers between us
	s, slow, got, errc := slowSetup(t, SlowSkip)
	publishPaced(t, s, n, got, errc)

	var next, skipped uint64
	gaps := 0
	for next < n {
		m, err := read(t, slow, 10*time.Second)
		if err != nil {
			t.Fatalf("slow client after %d: %v", next, err)
		}
		switch m.typ {
		case "frame":
			if uint64(m.seq) != next {
				t.Fatalf("slow client got frame %d, want %d", m.seq, next)
			}
			next++
		case wsproto.TypeGap:
			g := m.gap
			if g.Reason != wsproto.GapSlowClient || uint64(g.From) != next || g.To < g.From || g.Count != uint64(g.To-g.From)+1 {
				t.Fatalf("gap %+v at %d", g, next)
			}
			next, skipped = uint64(g.To)+1, skipped+g.Count
			gaps++
		default:
			t.Fatalf("unexpected %s", m.raw)
		}
	}
	c := s.Info().Counters
	if gaps == 0 || skipped == 0 || c["slow_client_skips_total"] != float64(gaps) || c["client_dropped_frames_total"] != float64(skipped) {
		t.Fatalf("gaps %d skipped %d, counters %v", gaps, skipped, c)
	}
}

// With --slow-client close, the client that fell behind is closed with
// 1008 while the other keeps every frame.
func TestSlowClientClose(t *testing.T) {
	const n = 4000
	s, slow, got, errc := slowSetup(t, SlowClose)
	publishPaced(t, s, n, got, errc)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var err error
	for err == nil {
		_, _, err = slow.Read(ctx)
	}
	if websocket.CloseStatus(err) != websocket.StatusPolicyViolation {
		t.Fatalf("slow client ended with %v, want close 1008", err)
	}
	if c := s.Info().Counters; c["slow_client_closes_total"] != 1 {
		t.Fatalf("counters %v", c)
	}
	testsupport.WaitFor(t, 2*time.Second, "the closed client to leave", func() bool { return clients(s) == 1 })
}

// A peer that stops answering pings is dropped within about two
// intervals; the others stay. The interval is 250 ms, not less: the live
// reader (in this process) must answer within two of them, and a loaded
// machine can hold a goroutine back for 100 ms.
func TestPingDropsDeadPeer(t *testing.T) {
	s, base := testServer(t, Options{PingInterval: 250 * time.Millisecond})
	live := testsupport.Dial(t, wsURL(base, ""), nil)
	testsupport.ExpectHello(t, live)
	go func() { // keep reading so that pongs are answered
		for {
			if _, _, err := live.Read(context.Background()); err != nil {
				return
			}
		}
	}()
	dead := testsupport.Dial(t, wsURL(base, ""), nil) // never reads: never answers a ping
	_ = dead
	testsupport.WaitFor(t, 10*time.Second, "one client to remain", func() bool { return clients(s) == 1 })
	time.Sleep(750 * time.Millisecond) // three more intervals: the reader stays
	if clients(s) != 1 || s.Info().Counters["client_ping_timeouts_total"] != 1 {
		t.Fatalf("clients %d, counters %v", clients(s), s.Info().Counters)
	}
}

// A client that stops reading altogether is dropped: its writer waits
// for the flow-control window (or, with tiny socket buffers, a write cannot
// complete within --write-timeout) and it answers no ping. Meanwhile
// nothing waits for it.
func TestStalledClientDropped(t *testing.T) {
	s, base := testServer(t, Options{History: time.Hour, WriteTimeout: 300 * time.Millisecond, PingInterval: 100 * time.Millisecond})
	stalled := testsupport.Dial(t, wsURL(base, ""), nil)
	testsupport.ExpectHello(t, stalled)
	for seq := uint32(0); seq < 4000; seq++ { // 32 MB
		s.Packet(counterPacket(t, seq, bigCount, tChans, frame.I16))
	}
	testsupport.WaitFor(t, 5*time.Second, "the stalled client to be dropped", func() bool { return clients(s) == 0 })
	c := s.Info().Counters
	if c["client_write_timeouts_total"]+c["client_ping_timeouts_total"] != 1 {
		t.Fatalf("counters %v", c)
	}
}

// A client reading at a third of the stream's rate is skipped ahead with
// exact slow_client gaps, promptly and on the same connection: the flow
// control keeps its backlog out of the kernel's buffers.
func TestSteadySlowReaderSkipped(t *testing.T) {
	s, base := testServer(t, Options{History: 500 * time.Millisecond, PingInterval: time.Second})
	c := testsupport.Dial(t, wsURL(base, ""), nil)
	testsupport.ExpectHello(t, c)
	stop := make(chan struct{})
	defer close(stop)
	go func() { // 8 kB frames, 125 ms of samples each, sent 16 per 125 ms: 1 MB/s
		tk := time.NewTicker(time.Millisecond * 125 / 16)
		defer tk.Stop()
		for seq := uint32(0); ; seq++ {
			select {
			case <-stop:
				return
			case <-tk.C:
			}
			s.Packet(counterPacket(t, seq, bigCount, tChans, frame.I16))
		}
	}()
	var next uint32
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		m, err := read(t, c, 5*time.Second)
		if err != nil {
			t.Fatalf("slow reader after frame %d: %v", next, err)
		}
		switch m.typ {
		case "frame":
			if m.seq != next {
				t.Fatalf("frame %d, want %d", m.seq, next)
			}
			next++
		case wsproto.TypeGap:
			if m.gap.Reason != wsproto.GapSlowClient || m.gap.From != next || m.gap.Count != uint64(m.gap.To-m.gap.From)+1 {
				t.Fatalf("gap %+v at %d", m.gap, next)
			}
			if cs := s.Info().Counters; cs["client_ping_timeouts_total"] != 0 || cs["slow_client_skips_total"] < 1 {
				t.Fatalf("counters %v", cs)
			}
			return // skipped, exactly, still connected
		}
		time.Sleep(3 * time.Millisecond * 125 / 16) // a third of the rate
	}
	t.Fatalf("no slow_client gap within 10 s (at frame %d)", next)
}
