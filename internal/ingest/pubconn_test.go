package ingest_test

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	neturl "net/url"
	"runtime"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/wsbridge/wsbridge/internal/frame"
	"github.com/wsbridge/wsbridge/internal/ingest"
	"github.com/wsbridge/wsbridge/internal/ingest/ingesttest"
	"github.com/wsbridge/wsbridge/internal/testsupport"
	"github.com/wsbridge/wsbridge/internal/wsconn"
)

// onEachListener runs f against a hub behind a plain test server (the
// hijacked connection is a *net.TCPConn), one behind serve's
// wsconn.Listener (a *wsconn.Conn, raw system calls on Linux), both read
// by the pubLoop on Linux, and one behind serve's listener whose
// sessions read on their own goroutines (as over TLS, or not on Linux).
func onEachListener(t *testing.T, o ingest.NetworkOptions, f func(t *testing.T, h *hub)) {
	for _, kind := range []string{"plain", "wsconn", "no loop"} {
		t.Run(kind, func(t *testing.T) {
			var wrap func(*httptest.Server)
			if kind != "plain" {
				wrap = func(s *httptest.Server) {
					s.Listener = wsconn.Listener{Listener: s.Listener}
					s.Config.ConnContext = wsconn.WithConn
				}
			}
			h := startHubWith(t, o, wrap)
			if kind == "no loop" {
				ingest.NoLoop(h.net)
			}
			f(t, h)
			loop := ingest.LoopReads(h.net) > 0
			if want := kind != "no loop" && runtime.GOOS == "linux"; loop != want {
				t.Errorf("read by the loop: %v, want %v", loop, want)
			}
		})
	}
}

// packets are two v1 data packets of the shared table (seq 0 and 7).
func packets(t *testing.T) (pkts [][]byte, want []frame.Frame) {
	t.Helper()
	for _, m := range ingesttest.Messages[:2] {
		var p frame.Packet
		if err := frame.Parse(&p, m.Msg.Data); err != nil || p.Type != frame.TypeData {
			t.Fatalf("%s: %v", m.Name, err)
		}
		pkts, want = append(pkts, m.Msg.Data), append(want, p.Clone().Frame)
	}
	return pkts, want
}

func sameFrames(t *testing.T, got, want []frame.Frame) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d frames, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i].Seq != want[i].Seq || string(got[i].Data) != string(want[i].Data) || got[i].Count != want[i].Count {
			t.Fatalf("frame %d: seq %d, %d samples, want seq %d, %d samples", i, got[i].Seq, got[i].Count, want[i].Seq, want[i].Count)
		}
	}
}

// TestPubFragmentsAndPings: a real client's fragmented messages, with its
// pings between the fragments, decode to the exact frames sent; its
// pings get pongs.
func TestPubFragmentsAndPings(t *testing.T) {
	t.Parallel()
	onEachListener(t, ingest.NetworkOptions{}, func(t *testing.T, h *hub) {
		c, _ := dialPub(t, h.url)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		go c.Read(ctx) // reading takes in the pongs
		pkts, want := packets(t)
		for _, pkt := range pkts {
			w, err := c.Writer(ctx, websocket.MessageBinary)
			if err != nil {
				t.Fatal(err)
			}
			for i := 0; i < len(pkt); i += 5 { // a frame of 5 bytes per Write
				if _, err := w.Write(pkt[i:min(i+5, len(pkt))]); err != nil {
					t.Fatal(err)
				}
				if i == 5 {
					if err := c.Ping(ctx); err != nil {
						t.Fatalf("ping between fragments: %v", err)
					}
				}
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
		}
		testsupport.WaitFor(t, 3*time.Second, "two frames", func() bool { return len(h.rec.frames()) == 2 })
		sameFrames(t, h.rec.frames(), want)
	})
}

// TestPubClientCloses: a client's close is answered (its Close returns
// without error only then), and the device is down for that reason.
func TestPubClientCloses(t *testing.T) {
	t.Parallel()
	onEachListener(t, ingest.NetworkOptions{}, func(t *testing.T, h *hub) {
		c, _ := dialPub(t, h.url)
		if err := c.Close(websocket.StatusNormalClosure, "bye"); err != nil {
			t.Fatalf("close: %v", err)
		}
		waitDown(t, h, "down the device closed the connection (1000)")
	})
}

// TestPubClientVanishes: a client gone without a close frame.
func TestPubClientVanishes(t *testing.T) {
	t.Parallel()
	onEachListener(t, ingest.NetworkOptions{}, func(t *testing.T, h *hub) {
		c, _ := dialPub(t, h.url)
		c.CloseNow()
		waitDown(t, h, "down connection lost: the device's end closed without a close frame")
	})
}

// TestPubShutdown: serve shutting down closes an idle publisher with
// 1001 and waits for its answer; the session ends.
func TestPubShutdown(t *testing.T) {
	t.Parallel()
	onEachListener(t, ingest.NetworkOptions{}, func(t *testing.T, h *hub) {
		c, _ := dialPub(t, h.url)
		pkts, _ := packets(t)
		c.Write(context.Background(), websocket.MessageBinary, pkts[0])
		testsupport.WaitFor(t, 3*time.Second, "a frame", func() bool { return len(h.rec.frames()) == 1 })
		stopped := make(chan struct{})
		go func() { h.stop(); close(stopped) }()
		checkClose(t, c, websocket.StatusGoingAway, "serve is shutting down")
		select {
		case <-stopped:
		case <-time.After(time.Second): // well before closeWait: the session read the answer
			t.Fatal("Run did not return after the device answered the close")
		}
		if ev := h.rec.eventList(); ev[len(ev)-1] != "down serve is shutting down" {
			t.Fatalf("events %q", ev)
		}
	})
}

func waitDown(t *testing.T, h *hub, want string) {
	t.Helper()
	testsupport.WaitFor(t, 3*time.Second, want, func() bool {
		ev := h.rec.eventList()
		return len(ev) == 3 && ev[2] == want
	})
}

// TestPubRefusals: what a real client can send wrong, and what only a
// client of raw bytes can, each closed with its code and reason and
// counted.
func TestPubRefusals(t *testing.T) {
	t.Parallel()
	onEachListener(t, ingest.NetworkOptions{}, func(t *testing.T, h *hub) {
		c, _ := dialPub(t, h.url)
		c.Write(context.Background(), websocket.MessageBinary, make([]byte, ingest.MaxMessage+1))
		checkClose(t, c, 1009, "message over 65536 bytes: at most 65536 (one v1 packet per binary message)")

		c, _ = dialPub(t, h.url)
		w, _ := c.Writer(context.Background(), websocket.MessageBinary)
		w.Write(make([]byte, 40000))
		w.Write(make([]byte, 40000)) // over the limit in the second fragment
		checkClose(t, c, 1009, "message over 65536 bytes: at most 65536 (one v1 packet per binary message)")

		c, _ = dialPub(t, h.url)
		c.Write(context.Background(), websocket.MessageText, []byte("12\xff\xfe"))
		checkClose(t, c, 1007, "text message is not valid UTF-8: send binary data as a binary message")

		for _, bad := range []struct {
			frame  []byte
			code   uint16
			reason string
		}{
			{ingesttest.ClientFrame(true, 0x3, []byte("x")), 1002, "protocol error: unknown opcode 0x3"},
			{[]byte{0x82, 0x01, 'x'}, 1002, "protocol error: unmasked frame: a client must mask every frame (RFC 6455, 5.1)"},
			{ingesttest.CloseFrame(1000, "\xff"), 1007, "protocol error: close reason is not valid UTF-8"},
			{ingesttest.CloseFrame(1005, ""), 1002, "protocol error: close code 1005 is not one a peer may send"},
		} {
			r := dialRaw(t, h.url, nil)
			r.c.Write(bad.frame)
			if code, reason := r.closeFrame(t, true); code != bad.code || reason != bad.reason {
				t.Errorf("% x: closed with %d %q, want %d %q", bad.frame, code, reason, bad.code, bad.reason)
			}
		}
		want := map[string]float64{"ingest_refused_too_big_total": 2, "ingest_refused_bad_text_total": 1, "ingest_refused_protocol_total": 4}
		testsupport.WaitFor(t, 2*time.Second, "counters", func() bool {
			for _, k := range h.net.Counters() {
				if v, ok := want[k.Name]; ok && v != k.Value {
					return false
				}
			}
			return true
		})
	})
}

func checkClose(t *testing.T, c *websocket.Conn, code websocket.StatusCode, reason string) {
	t.Helper()
	if got, why := closeOf(t, c); got != code || why != reason {
		t.Errorf("closed with %d %q, want %d %q", got, why, code, reason)
	}
}

// TestPubBytesWithTheHandshake: frames sent in the same packet as the
// upgrade request (read by net/http before the handshake ends) count.
func TestPubBytesWithTheHandshake(t *testing.T) {
	t.Parallel()
	onEachListener(t, ingest.NetworkOptions{}, func(t *testing.T, h *hub) {
		pkts, want := packets(t)
		r := dialRaw(t, h.url, append(ingesttest.ClientFrame(true, 0x2, pkts[0]), ingesttest.ClientFrame(true, 0x2, pkts[1])...))
		testsupport.WaitFor(t, 3*time.Second, "two frames", func() bool { return len(h.rec.frames()) == 2 })
		sameFrames(t, h.rec.frames(), want)
		r.c.Write(ingesttest.CloseFrame(1001, "going"))
		if code, reason := r.closeFrame(t, false); code != 1001 || reason != "" {
			t.Fatalf("close answered with %d %q, want 1001", code, reason)
		}
	})
}

// rawPub is a publisher of raw bytes: the upgrade by hand, then frames
// as the test writes them.
type rawPub struct {
	c  net.Conn
	br *bufio.Reader
}

// dialRaw upgrades a connection to url, sending early right after the
// request, and reads the greeting.
func dialRaw(t *testing.T, url string, early []byte) *rawPub {
	t.Helper()
	u, err := neturl.Parse(url)
	if err != nil {
		t.Fatal(err)
	}
	c, err := net.Dial("tcp", u.Host)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(5 * time.Second))
	req := "GET " + u.RequestURI() + " HTTP/1.1\r\nHost: " + u.Host + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
	if _, err := c.Write(append([]byte(req), early...)); err != nil {
		t.Fatal(err)
	}
	r := &rawPub{c: c, br: bufio.NewReader(c)}
	resp, err := http.ReadResponse(r.br, nil)
	if err != nil || resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("upgrade: %v %v", resp, err)
	}
	if op, msg := r.frame(t); op != 0x1 || !ingest.IsGreeting(msg) {
		t.Fatalf("first frame: opcode %d %q, want the greeting", op, msg)
	}
	return r
}

// frame reads one server frame: unmasked, final.
func (r *rawPub) frame(t *testing.T) (byte, []byte) {
	t.Helper()
	var h [2]byte
	if _, err := io.ReadFull(r.br, h[:]); err != nil {
		t.Fatalf("frame header: %v", err)
	}
	if h[0]&0xf0 != 0x80 || h[1]&0x80 != 0 {
		t.Fatalf("frame header % x: want final and unmasked", h)
	}
	n := uint64(h[1] & 0x7f)
	switch n {
	case 126:
		var b [2]byte
		io.ReadFull(r.br, b[:])
		n = uint64(binary.BigEndian.Uint16(b[:]))
	case 127:
		var b [8]byte
		io.ReadFull(r.br, b[:])
		n = binary.BigEndian.Uint64(b[:])
	}
	p := make([]byte, n)
	if _, err := io.ReadFull(r.br, p); err != nil {
		t.Fatalf("frame payload: %v", err)
	}
	return h[0] & 0x0f, p
}

// closeFrame reads frames up to the server's close frame and returns its
// code and reason; the server must then end the connection. answer: the
// client answers it, as a client does when the server closed first.
func (r *rawPub) closeFrame(t *testing.T, answer bool) (uint16, string) {
	t.Helper()
	for {
		op, p := r.frame(t)
		if op != 0x8 {
			continue
		}
		if len(p) < 2 {
			t.Fatalf("close frame of %d bytes", len(p))
		}
		if answer {
			r.c.Write(ingesttest.CloseFrame(binary.BigEndian.Uint16(p), ""))
		}
		if _, err := r.br.ReadByte(); !errors.Is(err, io.EOF) {
			t.Fatalf("after the close frame: %v, want the server's end", err)
		}
		return binary.BigEndian.Uint16(p), string(p[2:])
	}
}
