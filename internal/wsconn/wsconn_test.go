package wsconn

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
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

// TryCork and TryUncork never wait: with room, a batch goes out in one
// write and the buffer goes back to the pool; into a peer that reads
// nothing, TryUncork writes what the socket takes and keeps the rest
// corked (gathering past corkMax without writing meanwhile), TryCork then
// refuses, and a writer that may wait (Cork, Uncork) sends the rest after
// what went out: the peer reads every byte in order, with a write from
// another goroutine (a ping) gathered between.
func TestTryCorkNeverWaits(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("writes that never wait are Linux's (internal/pollio): elsewhere TryCork refuses")
	}
	c, writes, peer := countingConn(t)
	if !c.TryCork() {
		t.Fatal("TryCork failed on an idle connection")
	}
	c.Write([]byte("one "))
	c.Write([]byte("batch\n"))
	if ok, err := c.TryUncork(); !ok || err != nil || writes.Load() != 0 || c.buf != nil {
		t.Fatalf("TryUncork with room: %v, %v (buffer kept: %v)", ok, err, c.buf != nil)
	}
	got := make([]byte, 10)
	if _, err := io.ReadFull(peer, got); err != nil || string(got) != "one batch\n" {
		t.Fatalf("peer read %q (%v)", got, err)
	}

	var want bytes.Buffer
	if !c.TryCork() {
		t.Fatal("TryCork failed after a complete TryUncork")
	}
	chunk := make([]byte, corkMax/2)
	for want.Len() < 64<<20 { // more than loopback's socket buffers hold
		for i := range chunk {
			chunk[i] = byte(want.Len() + i)
		}
		want.Write(chunk)
		c.Write(chunk)
	}
	if n := writes.Load(); n != 0 {
		t.Fatalf("%d raw writes while gathering past corkMax after TryCork", n)
	}
	ok, err := c.TryUncork()
	if ok || err != nil {
		t.Fatalf("TryUncork into a peer that reads nothing: %v, %v; want false, nil", ok, err)
	}
	if c.TryCork() {
		t.Fatal("TryCork succeeded with bytes of the last batch still gathered")
	}
	c.Write([]byte("ping")) // another goroutine's write: gathered after the rest
	want.WriteString("ping")
	done := make(chan []byte, 1)
	go func() {
		b := make([]byte, want.Len())
		io.ReadFull(peer, b)
		done <- b
	}()
	c.Cork()
	if err := c.Uncork(); err != nil {
		t.Fatal(err)
	}
	select {
	case b := <-done:
		if !bytes.Equal(b, want.Bytes()) {
			t.Fatal("the peer did not read every byte in order")
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the peer did not get the rest")
	}
	if !c.TryCork() {
		t.Fatal("TryCork failed after Uncork wrote the rest")
	}
	if ok, err := c.TryUncork(); !ok || err != nil || c.buf != nil {
		t.Fatalf("empty TryUncork: %v, %v", ok, err)
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

// The keepalive's pings and OnPong together confirm what a reading
// client has read; Request sends a ping at once, without waiting for the
// interval.
func TestKeepConfirmsReads(t *testing.T) {
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
	f.Request() // before Keep: nothing to ping with
	f.Keep(s, KeepOptions{Interval: time.Hour, WriteTimeout: time.Second, LastSign: time.Now, Dead: func(time.Duration) { t.Error("declared dead") }})
	msg := make([]byte, 1000)
	for range 10 {
		s.Write(ctx, websocket.MessageBinary, msg)
		f.Sent(len(msg))
	}
	f.Request()
	testsupport.WaitFor(t, 5*time.Second, "the reads to be confirmed", func() bool { return f.InFlight() == 0 })
	s.CloseNow()
	f.Stop()
	f.Stop() // idempotent
}

// pinger is a connection whose pings the test controls: each waits for
// a pong the test sends on pong (or for the connection to close).
type pinger struct {
	pings  atomic.Int32
	out    atomic.Int32 // pings waiting for their pong now
	maxOut atomic.Int32
	pong   chan struct{}
	closed chan struct{}
}

func newPinger() *pinger { return &pinger{pong: make(chan struct{}), closed: make(chan struct{})} }

func (p *pinger) Ping(ctx context.Context) error {
	p.pings.Add(1)
	n := p.out.Add(1)
	defer p.out.Add(-1)
	for m := p.maxOut.Load(); n > m && !p.maxOut.CompareAndSwap(m, n); m = p.maxOut.Load() {
	}
	select {
	case <-p.pong:
		return nil
	case <-p.closed:
		return net.ErrClosed
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Pings go one at a time: Requests while one waits for its pong make one
// more ping after it, not one each; the interval's timer pings too, and
// Stop waits for the ping in flight once the connection closes.
func TestKeepPingsOneAtATime(t *testing.T) {
	f, p := NewFlow(), newPinger()
	f.Keep(p, KeepOptions{Interval: time.Hour, WriteTimeout: time.Hour, LastSign: time.Now, Dead: func(time.Duration) {}})
	f.Request()
	testsupport.WaitFor(t, 5*time.Second, "the first ping", func() bool { return p.pings.Load() == 1 })
	for range 5 {
		f.Request()
	}
	p.pong <- struct{}{}
	testsupport.WaitFor(t, 5*time.Second, "the ping asked for meanwhile", func() bool { return p.pings.Load() == 2 })
	p.pong <- struct{}{}
	time.Sleep(20 * time.Millisecond)
	if n, m := p.pings.Load(), p.maxOut.Load(); n != 2 || m != 1 {
		t.Fatalf("%d pings, at most %d at once; want 2, one at a time", n, m)
	}

	f, p = NewFlow(), newPinger()
	f.Keep(p, KeepOptions{Interval: 10 * time.Millisecond, WriteTimeout: time.Hour, LastSign: time.Now, Dead: func(time.Duration) {}})
	testsupport.WaitFor(t, 5*time.Second, "the interval's ping", func() bool { return p.pings.Load() == 1 })
	time.Sleep(50 * time.Millisecond) // five intervals, its pong still due: no second ping
	if n := p.pings.Load(); n != 1 {
		t.Fatalf("%d pings while the first waited for its pong", n)
	}
	close(p.closed)
	f.Stop()
	if n := p.out.Load(); n != 0 {
		t.Fatalf("Stop returned with %d pings waiting", n)
	}
	f.Request() // after Stop: nothing
	time.Sleep(20 * time.Millisecond)
	if n := p.pings.Load(); n != 1 {
		t.Fatalf("%d pings after Stop", n)
	}
}

// answering is a peer that answers every ping at once.
type answering struct{ f *Flow }

func (a answering) Ping(context.Context) error {
	a.f.OnPong([]byte("0"))
	return nil
}

// The keepalive declares a silent connection dead after DeadAfter
// intervals, once, and a lively one never: a pong, however late, and the
// caller's own signs count.
func TestKeepDeclaresSilentPeerDead(t *testing.T) {
	iv := 20 * time.Millisecond
	start := time.Now()
	f, p := NewFlow(), newPinger()
	dead := make(chan time.Duration, 2)
	f.Keep(p, KeepOptions{Interval: iv, WriteTimeout: time.Hour, LastSign: func() time.Time { return start },
		Dead: func(silent time.Duration) { dead <- silent; close(p.closed) }})
	select {
	case silent := <-dead:
		if silent <= DeadAfter*iv {
			t.Fatalf("declared dead after %v, silent only %v", time.Since(start), silent)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("a silent connection was not declared dead")
	}
	time.Sleep(5 * iv)
	f.Stop()
	if len(dead) != 0 {
		t.Fatal("declared dead twice")
	}

	// Alive: by the caller's sign, and by pongs alone (the peer answers
	// each ping at once), side by side. Intervals long enough that a
	// loaded machine's scheduling delays (-race, load 15) stay well under
	// one.
	iv = 500 * time.Millisecond
	var wg sync.WaitGroup
	for _, fresh := range []bool{true, false} {
		opened := time.Now()
		sign := func() time.Time { return opened } // when the connection opened
		if fresh {
			sign = time.Now
		}
		f := NewFlow()
		f.Keep(answering{f}, KeepOptions{Interval: iv, WriteTimeout: time.Hour, LastSign: sign,
			Dead: func(s time.Duration) {
				t.Errorf("a connection with fresh signs of life (own %v) was declared dead, silent %v", fresh, s)
			}})
		wg.Add(1)
		go func() { defer wg.Done(); time.Sleep(4 * iv); f.Stop() }()
	}
	wg.Wait()

	if l := Latest(time.Time{}, start, start.Add(-time.Second)); !l.Equal(start) {
		t.Fatalf("Latest = %v", l)
	}
}
