package wsconn

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/wsbridge/wsbridge/internal/testsupport"
)

// countingConn is a Conn whose raw writes are counted.
func countingConn(t *testing.T) (*Conn, *atomic.Int32, io.Reader) {
	t.Helper()
	c, peer := testsupport.TCPPair(t)
	cc := NewConn(c)
	var n atomic.Int32
	raw := cc.raw
	cc.raw = func(p []byte) (int, error) { n.Add(1); return raw(p) }
	return cc, &n, peer
}

// A corked batch goes out in one write, whoever wrote into it, and only
// at Uncork; more than corkMax goes out as it fills. Between batches the
// buffer goes back to the pool.
func TestCorkGathersABatch(t *testing.T) {
	c, writes, peer := countingConn(t)
	c.Cork()
	var want bytes.Buffer
	for i := range 100 {
		msg := []byte(strings.Repeat("x", i) + "\n")
		want.Write(msg)
		if _, err := c.Write(msg); err != nil {
			t.Fatal(err)
		}
	}
	if n := writes.Load(); n != 0 {
		t.Fatalf("%d writes while corked", n)
	}
	if err := c.Uncork(); err != nil {
		t.Fatal(err)
	}
	if n := writes.Load(); n != 1 || c.buf != nil {
		t.Fatalf("%d writes for one batch (buffer kept: %v), want 1", n, c.buf != nil)
	}
	got := make([]byte, want.Len())
	if _, err := io.ReadFull(peer, got); err != nil || !bytes.Equal(got, want.Bytes()) {
		t.Fatalf("peer read %d bytes (%v), want the batch", len(got), err)
	}

	c.Cork()
	big := bytes.Repeat([]byte("y"), corkMax/4)
	for range 9 { // 2.25 corkMax
		c.Write(big)
	}
	if n := writes.Load(); n != 3 {
		t.Fatalf("%d writes after 2.25 x corkMax corked, want 1 + 2 early flushes", n)
	}
	c.Uncork()
	if _, err := c.Write([]byte("z")); err != nil || writes.Load() != 5 {
		t.Fatalf("uncorked write: %v, %d writes in all, want 5", err, writes.Load())
	}
}

// A write that had to wait for the peer to read is a sign of life.
func TestUnblockedIsASignOfLife(t *testing.T) {
	c, peer := testsupport.TCPPair(t)
	cc := NewConn(c)
	if !cc.Unblocked().IsZero() {
		t.Fatal("Unblocked set before any write")
	}
	done := make(chan error, 1)
	go func() { // more than the socket buffers hold: blocks until the peer reads
		_, err := cc.Write(make([]byte, 32<<20))
		done <- err
	}()
	time.Sleep(100 * time.Millisecond)
	go io.Copy(io.Discard, peer)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if u := cc.Unblocked(); time.Since(u) > 5*time.Second {
		t.Fatalf("Unblocked = %v after a write that waited for the peer", u)
	}
}

// Acknowledgements follow the pings' marks: a pong confirms what had been
// sent when its ping went out; an unknown payload is only a sign of life.
func TestFlowAcknowledgesByPing(t *testing.T) {
	f := NewFlow()
	f.Sent(100)
	f.mark() // ping "1"
	f.Sent(50)
	f.mark() // ping "2"
	f.Sent(25)
	if f.InFlight() != 175 {
		t.Fatalf("in flight %d", f.InFlight())
	}
	f.OnPong([]byte("not a number"))
	if f.InFlight() != 175 || f.LastPong().IsZero() {
		t.Fatalf("a foreign pong: in flight %d, last pong %v", f.InFlight(), f.LastPong())
	}
	f.OnPong([]byte("1"))
	select {
	case <-f.Acked():
	default:
		t.Fatal("no ack signal")
	}
	if f.InFlight() != 75 {
		t.Fatalf("after pong 1: in flight %d, want 75", f.InFlight())
	}
	f.OnPong([]byte("2"))
	f.OnPong([]byte("1")) // late and out of order: acked never goes back
	if f.InFlight() != 25 {
		t.Fatalf("after pong 2: in flight %d, want 25", f.InFlight())
	}
	for range 100 { // pongs that never come: the marks stay bounded
		f.mark()
	}
	if len(f.marks) > 64 {
		t.Fatalf("%d marks kept", len(f.marks))
	}
}

// The assumption Flow makes about coder/websocket: Conn.Ping's payload is
// the connection's ping count in decimal ("1", "2", ...) and the peer's
// pong echoes it. If a new version changes that, acknowledgements stop
// and this test, not a stalled client, says why.
func TestPingPayloadIsTheCount(t *testing.T) {
	var mu sync.Mutex
	var payloads []string
	srvConn := make(chan *websocket.Conn, 1)
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, &websocket.AcceptOptions{OnPongReceived: func(_ context.Context, p []byte) {
			mu.Lock()
			payloads = append(payloads, string(p))
			mu.Unlock()
		}})
		if err != nil {
			return
		}
		srvConn <- c
		c.Read(context.Background()) // processes pongs until the client goes
	}))
	defer hs.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	client, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(hs.URL, "http"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer client.CloseNow()
	client.CloseRead(ctx) // answers pings
	s := <-srvConn
	for range 3 {
		if err := s.Ping(ctx); err != nil {
			t.Fatal(err)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if strings.Join(payloads, ",") != "1,2,3" {
		t.Fatalf("pong payloads %q, want 1,2,3: Flow's marks no longer match coder/websocket's pings", payloads)
	}
}

// PingLoop and OnPong together confirm what a reading client has read.
func TestPingLoopConfirmsReads(t *testing.T) {
	f := NewFlow()
	srvConn := make(chan *websocket.Conn, 1)
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, &websocket.AcceptOptions{OnPongReceived: func(_ context.Context, p []byte) { f.OnPong(p) }})
		if err != nil {
			return
		}
		srvConn <- c
		c.Read(context.Background())
	}))
	defer hs.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	client, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(hs.URL, "http"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer client.CloseNow()
	s := <-srvConn
	go func() {
		for {
			if _, _, err := client.Read(ctx); err != nil {
				return
			}
		}
	}()
	go f.PingLoop(ctx, s, time.Hour, time.Second)
	msg := make([]byte, 1000)
	for range 10 {
		s.Write(ctx, websocket.MessageBinary, msg)
		f.Sent(len(msg))
	}
	f.Request()
	testsupport.WaitFor(t, 5*time.Second, "the reads to be confirmed", func() bool { return f.InFlight() == 0 })
}

// Watch declares a silent connection dead after DeadAfter intervals, and
// a lively one never.
func TestWatch(t *testing.T) {
	iv := 20 * time.Millisecond
	start := time.Now()
	silent, dead := Watch(context.Background(), iv, func() time.Time { return start })
	if !dead || silent <= DeadAfter*iv || time.Since(start) > 2*time.Second {
		t.Fatalf("silent connection: dead %v after %v (silent %v)", dead, time.Since(start), silent)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*iv)
	defer cancel()
	if _, dead := Watch(ctx, iv, time.Now); dead {
		t.Fatal("a connection with fresh signs of life was declared dead")
	}
	if l := Latest(time.Time{}, start, start.Add(-time.Second)); !l.Equal(start) {
		t.Fatalf("Latest = %v", l)
	}
}
