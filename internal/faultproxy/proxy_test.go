package faultproxy

import (
	"bytes"
	"errors"
	"io"
	"net"
	"os"
	"sync"
	"syscall"
	"testing"
	"time"
)

// target is a TCP server on 127.0.0.1 that echoes (or discards) what it
// reads and records how each connection ended.
type target struct {
	ln    net.Listener
	mu    sync.Mutex
	ends  []error // io.EOF, a reset, ...
	conns []net.Conn
	wg    sync.WaitGroup
}

func newTarget(t *testing.T, echo bool) *target {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	tg := &target{ln: ln}
	tg.wg.Add(1)
	go func() {
		defer tg.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			tg.mu.Lock()
			tg.conns = append(tg.conns, c)
			tg.mu.Unlock()
			tg.wg.Add(1)
			go tg.serve(c, echo)
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		tg.mu.Lock()
		for _, c := range tg.conns {
			c.Close()
		}
		tg.mu.Unlock()
		tg.wg.Wait()
	})
	return tg
}

func (tg *target) serve(c net.Conn, echo bool) {
	defer tg.wg.Done()
	dst := io.Discard
	if echo {
		dst = c
	}
	_, err := io.Copy(dst, c)
	if err == nil {
		err = io.EOF
	}
	tg.mu.Lock()
	tg.ends = append(tg.ends, err)
	tg.mu.Unlock()
}

// waitEnds waits up to 3 s for n connections to end and returns how they ended.
func (tg *target) waitEnds(t *testing.T, n int) []error {
	t.Helper()
	for deadline := time.Now().Add(3 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		tg.mu.Lock()
		if len(tg.ends) >= n {
			out := append([]error(nil), tg.ends...)
			tg.mu.Unlock()
			return out
		}
		tg.mu.Unlock()
	}
	t.Fatalf("target: fewer than %d connections ended within 3 s", n)
	return nil
}

func (tg *target) endCount() int {
	tg.mu.Lock()
	defer tg.mu.Unlock()
	return len(tg.ends)
}

func newProxy(t *testing.T, tg *target) *Proxy {
	t.Helper()
	p, err := New(tg.ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

func dial(t *testing.T, p *Proxy) *net.TCPConn {
	t.Helper()
	c, err := net.DialTimeout("tcp", p.Addr(), 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c.(*net.TCPConn)
}

// echoConn starts an echo target behind a proxy and dials one connection
// through it that has carried hello both ways.
func echoConn(t *testing.T, hello string) (*target, *Proxy, *net.TCPConn) {
	t.Helper()
	tg := newTarget(t, true)
	p := newProxy(t, tg)
	c := dial(t, p)
	roundTrip(t, c, []byte(hello))
	return tg, p, c
}

// roundTrip writes msg and reads the echo within 2 s.
func roundTrip(t *testing.T, c net.Conn, msg []byte) {
	t.Helper()
	c.SetDeadline(time.Now().Add(2 * time.Second))
	defer c.SetDeadline(time.Time{})
	if _, err := c.Write(msg); err != nil {
		t.Fatalf("write: %v", err)
	}
	got := make([]byte, len(msg))
	if _, err := io.ReadFull(c, got); err != nil {
		t.Fatalf("read echo: %v", err)
	}
	if !bytes.Equal(got, msg) {
		t.Fatalf("echo differs from what was sent")
	}
}

// expectSilence checks that nothing at all (data, EOF, reset) arrives on c for d.
func expectSilence(t *testing.T, c net.Conn, d time.Duration) {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(d))
	defer c.SetReadDeadline(time.Time{})
	var b [64]byte
	n, err := c.Read(b[:])
	if n != 0 || !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("want silence for %v, got %d bytes, err %v", d, n, err)
	}
}

func pattern(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7 + i>>8)
	}
	return b
}

func TestForwardsBothWaysUnchanged(t *testing.T) {
	tg := newTarget(t, true)
	p := newProxy(t, tg)
	c := dial(t, p)
	msg := pattern(1 << 20)
	errc := make(chan error, 1)
	go func() { _, err := c.Write(msg); errc <- err }()
	got := make([]byte, len(msg))
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.ReadFull(c, got); err != nil {
		t.Fatal(err)
	}
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, msg) {
		t.Fatal("1 MiB echoed through the proxy differs")
	}
	// The proxy counts a chunk once its write returned, which may be after
	// the client read it: wait a little for the last ones.
	st := p.Stats()
	for end := time.Now().Add(2 * time.Second); (st.BytesUp != 1<<20 || st.BytesDown != 1<<20) && time.Now().Before(end); st = p.Stats() {
		time.Sleep(5 * time.Millisecond)
	}
	if st.Accepted != 1 || st.BytesUp != 1<<20 || st.BytesDown != 1<<20 || st.Active != 1 {
		t.Fatalf("stats %+v: want 1 accepted, 1 active, 1 MiB each way", st)
	}
}

func TestCutFINGivesBothPeersEOF(t *testing.T) {
	tg, p, c := echoConn(t, "hello")
	if n := p.Cut(CutFIN); n != 1 {
		t.Fatalf("Cut closed %d connections, want 1", n)
	}
	c.SetReadDeadline(time.Now().Add(2 * time.Second))
	if _, err := c.Read(make([]byte, 8)); err != io.EOF {
		t.Fatalf("client read after CutFIN: %v, want EOF", err)
	}
	if ends := tg.waitEnds(t, 1); ends[0] != io.EOF {
		t.Fatalf("target saw %v, want EOF", ends[0])
	}
	if st := p.Stats(); st.Cut != 1 || st.Active != 0 {
		t.Fatalf("stats %+v: want 1 cut, 0 active", st)
	}
	roundTrip(t, dial(t, p), []byte("again")) // new connections still work
}

func TestCutRSTResetsBothPeers(t *testing.T) {
	tg, p, c := echoConn(t, "hello")
	p.Cut(CutRST)
	c.SetReadDeadline(time.Now().Add(2 * time.Second))
	if _, err := c.Read(make([]byte, 8)); !errors.Is(err, syscall.ECONNRESET) {
		t.Fatalf("client read after CutRST: %v, want connection reset", err)
	}
	if ends := tg.waitEnds(t, 1); !errors.Is(ends[0], syscall.ECONNRESET) {
		t.Fatalf("target saw %v, want connection reset", ends[0])
	}
}

func TestStallDelaysWithoutLoss(t *testing.T) {
	_, p, c := echoConn(t, "before")
	p.Stall()
	msg := pattern(100 << 10)
	if _, err := c.Write(msg); err != nil {
		t.Fatal(err)
	}
	expectSilence(t, c, 300*time.Millisecond)
	c2 := dial(t, p) // a connection made during the stall is held too
	if _, err := c2.Write([]byte("x")); err != nil {
		t.Fatal(err)
	}
	expectSilence(t, c2, 100*time.Millisecond)
	p.Resume()
	got := make([]byte, len(msg))
	c.SetReadDeadline(time.Now().Add(3 * time.Second))
	if _, err := io.ReadFull(c, got); err != nil || !bytes.Equal(got, msg) {
		t.Fatalf("after Resume: err %v, equal %v: want the stalled 100 KiB intact", err, bytes.Equal(got, msg))
	}
	c2.SetReadDeadline(time.Now().Add(3 * time.Second))
	if _, err := io.ReadFull(c2, got[:1]); err != nil || got[0] != 'x' {
		t.Fatalf("second connection after Resume: %v", err)
	}
}

func TestHalfOpenIsSilentBothWays(t *testing.T) {
	tg, p, c := echoConn(t, "hello")
	if n := p.HalfOpen(); n != 1 {
		t.Fatalf("HalfOpen affected %d connections, want 1", n)
	}
	if _, err := c.Write([]byte("into the void")); err != nil {
		t.Fatalf("write into a half-open connection failed: %v (want it to succeed, as TCP does)", err)
	}
	expectSilence(t, c, 400*time.Millisecond)
	if n := tg.endCount(); n != 0 {
		t.Fatalf("target saw %d connection ends: a half-open connection must send no FIN or RST", n)
	}
	// The client gives up and closes: the target must still hear nothing.
	c.Close()
	time.Sleep(200 * time.Millisecond)
	if n := tg.endCount(); n != 0 {
		t.Fatalf("target saw the client's close through a black hole")
	}
	roundTrip(t, dial(t, p), []byte("new connections work"))
	if st := p.Stats(); st.HalfOpen != 1 || st.Active != 2 {
		t.Fatalf("stats %+v: want 1 half-open, 2 active (black hole + new)", st)
	}
	if n := p.Cut(CutFIN); n != 2 {
		t.Fatalf("Cut closed %d, want the black hole and the new connection", n)
	}
	tg.waitEnds(t, 2)
}

func TestRateCapIsNeverExceeded(t *testing.T) {
	tg := newTarget(t, false)
	p := newProxy(t, tg)
	const rate, n = 100_000, 60_000
	p.SetRate(rate)
	c := dial(t, p)
	start := time.Now()
	sendAndWait(t, p, c, n, "at the cap")
	el := time.Since(start)
	if min := time.Duration(n) * time.Second / rate; el < min {
		t.Fatalf("%d bytes went through in %v: faster than the %d B/s cap allows (%v)", n, el, rate, min)
	}
	t.Logf("%d bytes at a %d B/s cap took %v", n, rate, el)
	p.SetRate(0) // 1 MiB more would take 10 s at the cap, well beyond sendAndWait's 5 s
	sendAndWait(t, p, c, n+1<<20, "after the cap was lifted")
}

// sendAndWait writes pattern bytes on c until the proxy has forwarded
// total bytes upstream, then waits (at most 5 s) until it has.
func sendAndWait(t *testing.T, p *Proxy, c net.Conn, total uint64, what string) {
	t.Helper()
	if _, err := c.Write(pattern(int(total - p.Stats().BytesUp))); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(5 * time.Second); p.Stats().BytesUp < total; time.Sleep(2 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%s: only %d of %d bytes forwarded in 5 s", what, p.Stats().BytesUp, total)
		}
	}
}

func TestRefuseResetsNewConnections(t *testing.T) {
	tg := newTarget(t, true)
	p := newProxy(t, tg)
	p.Refuse(true)
	// The reset may come during the handshake or on the first read.
	if c, err := net.DialTimeout("tcp", p.Addr(), 2*time.Second); err == nil {
		c.SetReadDeadline(time.Now().Add(2 * time.Second))
		_, err = c.Read(make([]byte, 1))
		c.Close()
		if err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("read on a refused connection: %v, want reset or EOF", err)
		}
	}
	for deadline := time.Now().Add(2 * time.Second); p.Stats().Refused == 0 && time.Now().Before(deadline); {
		time.Sleep(2 * time.Millisecond)
	}
	if st := p.Stats(); st.Refused != 1 || st.Accepted != 0 {
		t.Fatalf("stats %+v: want 1 refused, 0 accepted", st)
	}
	p.Refuse(false)
	roundTrip(t, dial(t, p), []byte("ok"))
}

func TestCloseEndsEverythingAndIsIdempotent(t *testing.T) {
	_, p, c := echoConn(t, "hi")
	p.HalfOpen()
	done := make(chan struct{})
	go func() { p.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(3 * time.Second):
		t.Fatal("Close did not return within 3 s with a black-hole connection open")
	}
	if err := p.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	c.SetReadDeadline(time.Now().Add(2 * time.Second))
	if _, err := c.Read(make([]byte, 1)); err != io.EOF {
		t.Fatalf("client after Close: %v, want EOF", err)
	}
	if _, err := net.DialTimeout("tcp", p.Addr(), time.Second); err == nil {
		t.Fatal("proxy still accepts after Close")
	}
}
