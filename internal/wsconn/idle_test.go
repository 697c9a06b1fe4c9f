package wsconn

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// clientFrame encodes one masked frame, as a client sends it.
func clientFrame(fin bool, op byte, payload []byte) []byte {
	return AppendClientFrame(nil, fin, op, [4]byte{1, 2, 3, 4}, payload)
}

// The frame follower says "between messages" exactly at the end of a
// final data frame or of a control frame outside a message, whatever the
// lengths (7-bit, 16-bit, 64-bit) and however the bytes arrive: all at
// once, byte by byte, or in random pieces.
func TestFramesFollowsClientFrames(t *testing.T) {
	type part struct {
		frame   []byte
		between bool // after it, the next byte begins a message
	}
	parts := []part{
		{clientFrame(true, 2, []byte("hi")), true},
		{clientFrame(true, 0xa, []byte("7")), true}, // a pong between messages
		{clientFrame(true, 1, bytes.Repeat([]byte("a"), 125)), true},
		{clientFrame(true, 2, bytes.Repeat([]byte("b"), 126)), true},
		{clientFrame(true, 2, bytes.Repeat([]byte("c"), 70000)), true},
		{clientFrame(false, 2, []byte("first")), false}, // a fragmented message
		{clientFrame(true, 0x9, []byte("p")), false},    // a ping between its fragments
		{clientFrame(false, 0, bytes.Repeat([]byte("d"), 300)), false},
		{clientFrame(true, 0xa, nil), false},
		{clientFrame(true, 0, []byte("last")), true},
		{clientFrame(true, 2, nil), true}, // empty
		{clientFrame(true, 8, []byte{3, 0xe8}), true},
	}
	var stream []byte
	ends := map[int]bool{} // offset after each frame -> between
	for _, p := range parts {
		stream = append(stream, p.frame...)
		ends[len(stream)] = p.between
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for _, split := range []string{"whole", "bytes", "random"} {
		var f frames
		if !f.between() {
			t.Fatal("a new follower is not between messages")
		}
		for off := 0; off < len(stream); {
			n := len(stream) - off
			switch split {
			case "bytes":
				n = 1
			case "random":
				n = min(n, 1+rng.IntN(200))
			}
			f.feed(stream[off : off+n])
			off += n
			want, atEnd := ends[off]
			if got := f.between(); got != (atEnd && want) {
				t.Fatalf("%s: after %d of %d bytes: between %v, want %v", split, off, len(stream), got, atEnd && want)
			}
		}
	}
}

// idleServer is a WebSocket server whose one connection reads in idle
// mode, as the relay's clients do: Read until ErrIdle, WaitRead, again.
type idleServer struct {
	url   string
	conn  chan *websocket.Conn
	cork  chan *Conn
	msgs  chan string
	idles chan int // ErrIdle count, when the reader ends
}

func newIdleServer(t *testing.T) *idleServer {
	t.Helper()
	s := &idleServer{conn: make(chan *websocket.Conn, 1), cork: make(chan *Conn, 1),
		msgs: make(chan string, 100), idles: make(chan int, 1)}
	hs := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(Lean(w), r, nil)
		if err != nil {
			t.Error(err)
			return
		}
		c.SetReadLimit(1 << 20)
		cork := FromContext(r.Context())
		s.conn <- c
		s.cork <- cork
		go func() {
			cork.AllowIdle(true)
			idles := 0
			defer func() { s.idles <- idles }()
			for {
				typ, data, err := c.Read(context.Background())
				if errors.Is(err, ErrIdle) {
					idles++
					if cork.WaitRead() != nil {
						return
					}
					continue
				}
				if err != nil {
					return
				}
				s.msgs <- fmt.Sprintf("%v:%d:%.8s", typ, len(data), data)
			}
		}()
	}))
	hs.Listener = Listener{hs.Listener}
	hs.Config.ConnContext = WithConn
	hs.Start()
	t.Cleanup(hs.Close)
	s.url = "ws" + strings.TrimPrefix(hs.URL, "http")
	return s
}

// dialIdle dials s with a context of 20 s, both ended with the test.
func dialIdle(t *testing.T, s *idleServer) (context.Context, *websocket.Conn) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	client, _, err := websocket.Dial(ctx, s.url, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.CloseNow() })
	return ctx, client
}

// In idle mode the reader gets every message whole, in order: short and
// long ones, a fragmented message with pings between its fragments, with
// and without pauses (when it waits in WaitRead); it does wait there
// between messages (Linux); and a Close from another goroutine, with idle
// mode turned off first, completes the closing handshake.
func TestIdleReaderGetsEveryMessage(t *testing.T) {
	s := newIdleServer(t)
	ctx, client := dialIdle(t, s)
	client.SetReadLimit(1 << 20)
	client.CloseRead(ctx) // answers the server's pings and close
	sc, cork := <-s.conn, <-s.cork
	var want []string
	send := func(typ websocket.MessageType, data []byte) {
		t.Helper()
		if err := client.Write(ctx, typ, data); err != nil {
			t.Fatal(err)
		}
		want = append(want, fmt.Sprintf("%v:%d:%.8s", typ, len(data), data))
	}
	for i := range 20 {
		send(websocket.MessageText, []byte(fmt.Sprintf("command %d", i)))
		send(websocket.MessageBinary, bytes.Repeat([]byte{byte(i)}, 1+i*5000))
		if i%2 == 0 {
			time.Sleep(5 * time.Millisecond) // the reader goes idle
		}
		if i%5 == 0 { // a fragmented message, pings between its frames
			w, err := client.Writer(ctx, websocket.MessageText)
			if err != nil {
				t.Fatal(err)
			}
			var all []byte
			for j := range 3 {
				part := []byte(fmt.Sprintf("part%d-%d.", i, j))
				all = append(all, part...)
				if _, err := w.Write(part); err != nil {
					t.Fatal(err)
				}
				if err := client.Ping(ctx); err != nil {
					t.Fatal(err)
				}
				time.Sleep(2 * time.Millisecond)
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			want = append(want, fmt.Sprintf("%v:%d:%.8s", websocket.MessageText, len(all), all))
		}
	}
	for i, w := range want {
		select {
		case got := <-s.msgs:
			if got != w {
				t.Fatalf("message %d: %q, want %q", i, got, w)
			}
		case <-ctx.Done():
			t.Fatalf("message %d (%q) never read", i, w)
		}
	}
	time.Sleep(20 * time.Millisecond) // let the reader go idle
	cork.AllowIdle(false)
	if err := sc.Close(websocket.StatusNormalClosure, "done"); err != nil {
		t.Fatalf("close with the reader waiting: %v", err)
	}
	idles := <-s.idles
	if runtime.GOOS == "linux" && idles == 0 {
		t.Fatal("the reader never waited in idle mode")
	}
	if runtime.GOOS != "linux" && idles != 0 {
		t.Fatalf("ErrIdle %d times without raw reads", idles)
	}
}

// A peer that goes away ends the idle reader (WaitRead wakes for the end
// of the stream, Read reports it) and does not leave it waiting.
func TestIdleReaderSeesPeerGo(t *testing.T) {
	s := newIdleServer(t)
	ctx, client := dialIdle(t, s)
	<-s.conn
	<-s.cork
	if err := client.Write(ctx, websocket.MessageText, []byte("one")); err != nil {
		t.Fatal(err)
	}
	<-s.msgs
	time.Sleep(20 * time.Millisecond) // idle
	client.CloseNow()                 // the TCP connection ends without a close frame
	select {
	case <-s.idles:
	case <-ctx.Done():
		t.Fatal("the idle reader did not see the peer go")
	}
}

// A client whose first frame arrives with its handshake (already in
// net/http's reader at the hijack) keeps that reader and plain reads: no
// byte is lost and no ErrIdle is returned.
func TestLeanKeepsBufferedBytes(t *testing.T) {
	s := newIdleServer(t)
	host := strings.TrimPrefix(s.url, "ws://")
	c, err := net.DialTimeout("tcp", host, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	req := "GET / HTTP/1.1\r\nHost: " + host + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
	msg := append([]byte(req), clientFrame(true, 1, []byte("pipelined"))...)
	if _, err := c.Write(msg); err != nil {
		t.Fatal(err)
	}
	select {
	case got := <-s.msgs:
		if got != "MessageText:9:pipeline" {
			t.Fatalf("read %q", got)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the pipelined message was not read")
	}
	cork := <-s.cork
	if cork.idle != nil {
		t.Fatal("idle mode with bytes left in net/http's reader")
	}
	c.Close()
	if n := <-s.idles; n != 0 {
		t.Fatalf("ErrIdle %d times on a plain connection", n)
	}
}
