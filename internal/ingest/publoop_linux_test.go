package ingest_test

import (
	"fmt"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/wsbridge/wsbridge/internal/ingest"
	"github.com/wsbridge/wsbridge/internal/testsupport"
)

// A board whose burst is larger than one read of the pubLoop (the first
// read fills the buffer), then silent, gets all of it through: a loop
// that parked after a full read without polling again would leave the
// rest unread until the board sent again, i.e. forever here.
func TestLoopReadsPastAFullRead(t *testing.T) {
	ingest.SmallLoop(t, 64)
	h := startRelayHub(t, "sub-token", "big")
	sub := subscribeReady(t, h, "big")
	c := dialRawPub(t, h, "big")
	waitLoopConns(t, 1)
	const n = 40 // 40 frames of 1 KiB in one write: five reads of 8 KiB
	writeBurst(t, c, 0, n, 512, nil)
	waitFrames(t, sub, n)
	if missing := sub.checkExact(t, "big", 512); missing != 0 {
		t.Fatalf("%d frames missing", missing)
	}
}

// With epoll_wait returning one connection at a time, boards that send at
// the same instant, then nothing, leave ready connections a round did not
// read: the loop polls again rather than park (nothing would wake it, the
// runtime's poller having reported the epoll set once for all of them).
// 20 rounds of 8 boards sending one frame each at once.
func TestLoopReadsEveryReadyConnection(t *testing.T) {
	ingest.SmallLoop(t, 1)
	const boards, rounds = 8, 20
	names := make([]string, boards)
	for i := range names {
		names[i] = fmt.Sprintf("b%d", i)
	}
	h := startRelayHub(t, "sub-token", names...)
	subs := make([]*subscriber, boards)
	conns := make([]net.Conn, boards)
	for i, name := range names {
		subs[i] = subscribeReady(t, h, name)
		conns[i] = dialRawPub(t, h, name)
	}
	waitLoopConns(t, boards)
	for r := range rounds {
		var start, done sync.WaitGroup
		start.Add(1)
		for _, c := range conns {
			done.Go(func() {
				start.Wait()
				writeBurst(t, c, uint32(r), uint32(r+1), 32, nil)
			})
		}
		start.Done()
		done.Wait()
		for i, sub := range subs {
			waitFrames(t, sub, r+1)
			if last, _ := sub.last(); last != uint32(r) {
				t.Fatalf("%s: last frame %d, want %d", names[i], last, r)
			}
		}
	}
}

// waitLoopConns waits until the loop of the test's sessions holds n
// connections: from then on the loop, not the sessions, reads them.
func waitLoopConns(t *testing.T, n int) {
	t.Helper()
	testsupport.WaitFor(t, 10*time.Second, fmt.Sprintf("%d connections in the pubLoop", n), func() bool {
		return ingest.LoopConns() >= n
	})
}
