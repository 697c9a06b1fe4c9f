package ingest_test

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/wsbridge/wsbridge/internal/frame"
	"github.com/wsbridge/wsbridge/internal/ingest/ingesttest"
	"github.com/wsbridge/wsbridge/internal/testsupport"
)

// A board's burst, read by serve in one read, reaches its subscriber
// whole and in order although serve holds the subscribers' writes until
// it has published all it read (relay.Channel.Hold, flushed before the
// next read); and frames held when the session ends (the board then sends
// a message serve refuses) are written too.
func TestBurstReachesSubscribers(t *testing.T) {
	h := startRelayHub(t, "sub-token", "burst")
	sub := subscribeReady(t, h, "burst")
	c := dialRawPub(t, h, "burst")
	writeBurst(t, c, 0, 30, 256, nil) // the connection stays open, silent
	waitFrames(t, sub, 30)
	writeBurst(t, c, 30, 60, 256, ingesttest.ClientFrame(true, 2, []byte("not a v1 packet"))) // refused: the session ends
	waitFrames(t, sub, 60)
	if missing := sub.checkExact(t, "burst", 256); missing != 0 {
		t.Fatalf("%d frames missing", missing)
	}
	if last, n := sub.last(); last != 59 || n != 60 {
		t.Fatalf("last frame %d of %d, want 59 of 60", last, n)
	}
}

// subscribeReady subscribes to channel name and waits for its hello: it
// gets every frame published after that.
func subscribeReady(t *testing.T, h *relayHub, name string) *subscriber {
	t.Helper()
	sub := subscribe(t, h.base+"/ws/"+name, "sub-token")
	testsupport.WaitFor(t, 10*time.Second, "the subscriber's hello", func() bool {
		sub.mu.Lock()
		defer sub.mu.Unlock()
		return len(sub.texts) > 0
	})
	return sub
}

// dialRawPub connects a board to /pub/NAME over a plain TCP connection
// the test writes WebSocket frames to itself.
func dialRawPub(t *testing.T, h *relayHub, name string) net.Conn {
	t.Helper()
	host := strings.TrimPrefix(h.base, "ws://")
	c, err := net.DialTimeout("tcp", host, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	fmt.Fprintf(c, "GET /pub/%s?boot=b1 HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
		"Authorization: Bearer token-%s\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n", name, host, name)
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil || resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("handshake: %v %v", resp, err)
	}
	return c
}

// writeBurst writes frames from..to-1 of the counter boards send (count
// i16 samples each), then tail, in one write: serve reads them at once.
// Safe to call from any goroutine.
func writeBurst(t *testing.T, c net.Conn, from, to uint32, count int, tail []byte) {
	var b []byte
	for seq := from; seq < to; seq++ {
		f := frame.Frame{Seq: seq, Rate: 16000, Channels: 1, SampleType: frame.I16, Count: uint16(count), Data: make([]byte, 2*count)}
		for i := range count {
			f.PutInt(i, 0, int64(int16(int(seq)*count+i)))
		}
		pkt, err := frame.AppendFrame(nil, &f)
		if err != nil {
			t.Error(err)
			return
		}
		b = append(b, ingesttest.ClientFrame(true, 2, pkt)...)
	}
	if _, err := c.Write(append(b, tail...)); err != nil {
		t.Error(err)
	}
}

// waitFrames waits until sub has n frames.
func waitFrames(t *testing.T, sub *subscriber, n int) {
	t.Helper()
	testsupport.WaitFor(t, 10*time.Second, fmt.Sprintf("%d frames at the subscriber", n), func() bool {
		_, got := sub.last()
		return got >= n
	})
}
