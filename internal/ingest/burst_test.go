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
	sub := subscribe(t, h.base+"/ws/burst", "sub-token")
	testsupport.WaitFor(t, 10*time.Second, "the subscriber's hello", func() bool { // subscribed: it gets what comes next
		sub.mu.Lock()
		defer sub.mu.Unlock()
		return len(sub.texts) > 0
	})
	host := strings.TrimPrefix(h.base, "ws://")
	c, err := net.DialTimeout("tcp", host, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fmt.Fprintf(c, "GET /pub/burst?boot=b1 HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
		"Authorization: Bearer token-burst\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n", host)
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil || resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("handshake: %v %v", resp, err)
	}
	burst := func(from, to uint32, tail []byte) {
		var b []byte
		for seq := from; seq < to; seq++ {
			f := frame.Frame{Seq: seq, Rate: 16000, Channels: 1, SampleType: frame.I16, Count: 256, Data: make([]byte, 512)}
			for i := range 256 {
				f.PutInt(i, 0, int64(int16(int(seq)*256+i)))
			}
			pkt, err := frame.AppendFrame(nil, &f)
			if err != nil {
				t.Fatal(err)
			}
			b = append(b, ingesttest.ClientFrame(true, 2, pkt)...)
		}
		if _, err := c.Write(append(b, tail...)); err != nil { // one write: serve reads the burst at once
			t.Fatal(err)
		}
	}
	wait := func(n int) {
		t.Helper()
		testsupport.WaitFor(t, 10*time.Second, fmt.Sprintf("%d frames at the subscriber", n), func() bool {
			_, got := sub.last()
			return got >= n
		})
	}
	burst(0, 30, nil) // the connection stays open, silent
	wait(30)
	burst(30, 60, ingesttest.ClientFrame(true, 2, []byte("not a v1 packet"))) // refused: the session ends
	wait(60)
	if missing := sub.checkExact(t, "burst", 256); missing != 0 {
		t.Fatalf("%d frames missing", missing)
	}
	if last, n := sub.last(); last != 59 || n != 60 {
		t.Fatalf("last frame %d of %d, want 59 of 60", last, n)
	}
}
