package relay

import (
	"context"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/wsbridge/wsbridge/internal/frame"
	"github.com/wsbridge/wsbridge/internal/source"
	"github.com/wsbridge/wsbridge/internal/testsupport"
	"github.com/wsbridge/wsbridge/internal/wsproto"
)

// pipe carries origin's events into mirror as the bus does (ReadEvents,
// then Apply), until the test ends.
func pipe(t *testing.T, origin, mirror *Channel) { pipeFrom(t, origin, mirror, 0) }

// pipeFrom is pipe from origin's ring position pos on.
func pipeFrom(t *testing.T, origin, mirror *Channel, pos uint64) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	t.Cleanup(func() { cancel(); <-done })
	mirror.Feed(true, "")
	go func() {
		defer close(done)
		var buf [16]source.Event
		for {
			n, first, wait := origin.ReadEvents(pos, buf[:])
			for i := range n {
				mirror.Apply(&buf[i])
			}
			pos = first + uint64(n)
			if n == 0 {
				select {
				case <-wait:
				case <-ctx.Done():
					return
				}
			}
		}
	}()
}

// texts reads messages until one contains last, and returns them (frames
// as their JSON text).
func texts(t *testing.T, c *websocket.Conn, last string) []string {
	t.Helper()
	var out []string
	for {
		m, err := read(t, c, 5*time.Second)
		if err != nil {
			t.Fatalf("after %q: %v", out, err)
		}
		out = append(out, string(m.raw))
		if strings.Contains(string(m.raw), last) {
			return out
		}
	}
}

func logPacket(t *testing.T, text string) *frame.Packet {
	raw, _ := frame.AppendLog(nil, []byte(text))
	var p frame.Packet
	if err := frame.Parse(&p, raw); err != nil {
		t.Fatal(err)
	}
	return &p
}

// A mirror's clients get what the origin's get: the same frames of the
// same epoch, device gaps, restarts, statuses and device text; resumes
// with since and epoch are answered the same way.
func TestMirrorShowsWhatTheOriginShows(t *testing.T) {
	origin, obase := testServer(t, Options{})
	mirror, mbase := testServer(t, Options{}, ChannelOptions{Name: "default", Mirror: true})
	oc := testsupport.Dial(t, wsURL(obase, "format=json"), nil)
	mc := testsupport.Dial(t, wsURL(mbase, "format=json"), nil)
	testsupport.ExpectHello(t, oc)
	testsupport.ExpectHello(t, mc)
	pipe(t, origin, mirror)

	origin.Up("open /dev/ttyUSB0")
	publish(t, origin, 100, 110)
	publish(t, origin, 112, 120) // 110..111 lost: a device gap
	origin.Packet(logPacket(t, "boot ok"))
	epoch1 := origin.Epoch()
	publish(t, origin, 0, 5) // the device restarted its count
	origin.Down("unplugged")

	want := texts(t, oc, "unplugged")
	got := texts(t, mc, "unplugged")
	// The mirror joined the origin's count when its first frame came.
	if !strings.Contains(got[1], `"state":"restart"`) || !strings.Contains(got[1], epoch1) {
		t.Fatalf("mirror's second message %s, want the restart into epoch %s", got[1], epoch1)
	}
	got = slices.Delete(got, 1, 2)
	if !slices.Equal(got, want) {
		t.Fatalf("mirror's messages differ from the origin's:\n got %q\nwant %q", got, want)
	}

	// Resumes: within the old epoch (its history), and with the current one.
	for _, q := range []string{"format=json&since=105&epoch=" + epoch1, "format=json&since=2&epoch=" + origin.Epoch(),
		"format=json&since=7&epoch=0badbad0"} {
		o := testsupport.Dial(t, wsURL(obase, q), nil)
		m := testsupport.Dial(t, wsURL(mbase, q), nil)
		oh, mh := testsupport.ExpectHello(t, o), testsupport.ExpectHello(t, m)
		if oh.Epoch != mh.Epoch || oh.StartSeq != mh.StartSeq || oh.Seq != mh.Seq || oh.History != mh.History {
			t.Fatalf("%s: hello differs: origin epoch %s start %d seq %d history %+v, mirror epoch %s start %d seq %d history %+v",
				q, oh.Epoch, oh.StartSeq, oh.Seq, oh.History, mh.Epoch, mh.StartSeq, mh.Seq, mh.History)
		}
		if w, g := texts(t, o, `"seq":4,`), texts(t, m, `"seq":4,`); !slices.Equal(g, w) {
			t.Fatalf("%s:\n mirror %q\n origin %q", q, g, w)
		}
	}
}

// While the bus feed is down the mirror's clients hear the device is
// down, with the reason; then the origin's state again.
func TestMirrorFeed(t *testing.T) {
	mirror, mbase := testServer(t, Options{}, ChannelOptions{Name: "default", Mirror: true})
	c := testsupport.Dial(t, wsURL(mbase, "format=json"), nil)
	testsupport.ExpectHello(t, c)
	mirror.Feed(true, "")
	mirror.Apply(&source.Event{Kind: source.EventUp, Epoch: "e1", Reason: "open"})
	mirror.Feed(false, "bus: disconnected")
	mirror.Feed(true, "following")
	got := texts(t, c, `"open"`)
	got = append(got, texts(t, c, "disconnected")...)
	got = append(got, texts(t, c, `"open"`)...)
	if len(got) != 3 || !strings.Contains(got[1], `"state":"down"`) {
		t.Fatalf("statuses %q", got)
	}
	if ok, _, reason := mirror.MirrorFeed(); !ok || reason != "following" {
		t.Fatalf("MirrorFeed: %v %q", ok, reason)
	}
}

// A mirror's client that resumes from before the mirror's ring gets the
// frames it lacks from Backfill (the bus), then the ring, with nothing
// missing; what Backfill does not have comes as a history gap.
func TestMirrorBackfill(t *testing.T) {
	origin, _ := testServer(t, Options{})
	var asked [2]uint32
	backfill := func(ctx context.Context, epoch wsproto.Epoch, from, to uint32, emit func(*source.Event) error) error {
		asked = [2]uint32{from, to}
		for seq := from; seq <= to; seq++ {
			if seq >= 12 && seq <= 13 { // the bus lacks these: a history gap
				if seq == 12 {
					if err := emit(&source.Event{Kind: source.EventGap, Epoch: epoch, From: 12, Seq: 13, Reason: wsproto.GapHistory}); err != nil {
						return err
					}
				}
				continue
			}
			if err := emit(&source.Event{Kind: source.EventFrame, Epoch: epoch, Seq: seq, Raw: counterPacket(t, seq, tCount, tChans, frame.I16).Raw}); err != nil {
				return err
			}
		}
		return nil
	}
	mirror, mbase := testServer(t, Options{}, ChannelOptions{Name: "default", Mirror: true, Backfill: backfill})
	mirror.Feed(true, "")
	// The mirror joins late: its ring starts at frame 20 of the origin's count.
	publish(t, origin, 0, 20)
	var buf [64]source.Event
	n, _, _ := origin.ReadEvents(0, buf[:])
	for i := range n {
		if buf[i].Kind != source.EventFrame || buf[i].Seq >= 20 {
			t.Fatalf("event %s", buf[i].String())
		}
	}
	pipeFrom(t, origin, mirror, uint64(n))
	publish(t, origin, 20, 40)
	// The pipe applies the origin's events on its own goroutine: a client
	// that came before the mirror had the origin's epoch would be resuming
	// into another count (hello start_seq 0 and a restart).
	if !testsupport.Within(10*time.Second, time.Millisecond, func() bool {
		sn := mirror.hub.snapshot()
		return sn.Epoch == origin.Epoch() && sn.Next == 40
	}) {
		t.Fatalf("the mirror did not apply the origin's frames up to 39 within 10 s: %+v", mirror.hub.snapshot())
	}

	c := testsupport.Dial(t, wsURL(mbase, "format=json&since=5&epoch="+origin.Epoch()), nil)
	if h := testsupport.ExpectHello(t, c); h.StartSeq != 5 {
		t.Fatalf("hello start_seq %d, want 5", h.StartSeq)
	}
	expectFrames(t, c, 5, 12)
	if g := expectMsg(t, c, "gap").gap; g.From != 12 || g.To != 13 || g.Reason != wsproto.GapHistory {
		t.Fatalf("gap %+v", g)
	}
	expectFrames(t, c, 14, 40)
	if asked != [2]uint32{5, 19} {
		t.Fatalf("backfill asked for %v, want 5..19", asked)
	}
}

// A mirror's caught-up clients get each frame from the goroutine that
// applies it (inline.go), as the origin's clients get theirs from the
// device's: every frame after the first (which brings the origin's epoch
// and its restart status) goes out inline, in order.
func TestMirrorWritesInline(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("writes that never wait are Linux's (internal/pollio): elsewhere TryCork refuses")
	}
	origin, _ := testServer(t, Options{})
	mirror, mbase := testServer(t, Options{}, ChannelOptions{Name: "default", Mirror: true})
	mirror.hub.inlineGap = 0 // every frame inline, however fast they come
	c := testsupport.Dial(t, wsURL(mbase, ""), nil)
	testsupport.ExpectHello(t, c)
	pipe(t, origin, mirror)
	parked := func() bool {
		h := mirror.hub
		h.pmu.Lock()
		defer h.pmu.Unlock()
		return len(h.parked) == 1 && h.parked[0].state.Load() == writerParked
	}
	publish(t, origin, 0, 1)
	expectMsg(t, c, wsproto.TypeStatus) // the restart into the origin's epoch
	expectFrames(t, c, 0, 1)
	const n = 20
	for seq := uint32(1); seq <= n; seq++ {
		testsupport.WaitFor(t, 5*time.Second, "the client's writer parked", parked)
		publish(t, origin, seq, seq+1)
		expectFrames(t, c, seq, seq+1)
	}
	if w := mirror.stats.inlineWrites.Load(); w < n {
		t.Fatalf("%d batches written inline to a caught-up client of a mirror, want at least its %d frames", w, n)
	}
}
