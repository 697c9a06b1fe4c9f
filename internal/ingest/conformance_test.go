package ingest_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/wsbridge/wsbridge/internal/ingest"
	"github.com/wsbridge/wsbridge/internal/source"
	"github.com/wsbridge/wsbridge/internal/source/sourcetest"
	"github.com/wsbridge/wsbridge/internal/testsupport"
)

// TestNetworkConformance runs the source conformance suite over a Network
// source with a device that publishes on /pub like a Wi-Fi board: every
// packet one binary message; a refused message closes the connection and
// the device connects again, as a board does.
func TestNetworkConformance(t *testing.T) {
	sourcetest.Run(t, sourcetest.Kind{Name: "network", New: func(t *testing.T) (source.Source, sourcetest.Device) {
		n, err := ingest.NewNetwork(ingest.NetworkOptions{Channel: "conf", Token: "t0k3n"})
		if err != nil {
			t.Fatal(err)
		}
		url := startHubFor(t, n)
		return n, newPubDevice(t, url)
	}})
}

// pubDevice is a minimal board on /pub: it connects (again) on its own and
// passes the lines it gets to Lines.
type pubDevice struct {
	url   string
	conn  liveConn
	lines chan string
	ctx   context.Context
}

func newPubDevice(t *testing.T, url string) *pubDevice {
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	d := &pubDevice{url: url, lines: make(chan string, 16), ctx: ctx}
	go d.connect()
	return d
}

// connect dials until it is greeted, then reads until the connection ends,
// then connects again.
func (d *pubDevice) connect() {
	for d.ctx.Err() == nil {
		c, _, err := websocket.Dial(d.ctx, d.url, &websocket.DialOptions{HTTPHeader: http.Header{"Authorization": {"Bearer t0k3n"}}})
		if err != nil {
			time.Sleep(10 * time.Millisecond)
			continue
		}
		if _, _, err := c.Read(d.ctx); err != nil { // the greeting
			c.CloseNow()
			continue
		}
		d.conn.set(c)
		forwardLines(d.ctx, c, d.lines)
		d.conn.clear(c)
		c.CloseNow()
	}
}

// current waits for a greeted connection.
func (d *pubDevice) current(t testing.TB) *websocket.Conn {
	return d.conn.wait(t, "the device to get connected")
}

// Write sends packet as one binary message; a packet serve refuses ends
// the connection, so the device waits until it has connected again.
func (d *pubDevice) Write(t testing.TB, _, packet []byte) bool {
	if packet == nil {
		return false // a fault in the serial framing: there is none on a WebSocket
	}
	c := d.current(t)
	if err := c.Write(d.ctx, websocket.MessageBinary, packet); err != nil {
		t.Fatalf("device write: %v", err)
	}
	settle(t, &d.conn, c)
	return true
}

// settle waits until the peer has read what was written on c: a ping
// comes back after the messages before it. A peer that refused a message
// closes c instead; then settle waits for the next connection, so the
// next packet is not written into a connection being closed (a fixed
// pause was too short on a loaded machine, and that packet was lost).
func settle(t testing.TB, l *liveConn, c *websocket.Conn) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if c.Ping(ctx) == nil {
		return
	}
	testsupport.WaitFor(t, 10*time.Second, "a new connection after a refused message", func() bool {
		l.mu.Lock()
		defer l.mu.Unlock()
		return l.conn != nil && l.conn != c
	})
}

func (d *pubDevice) Lines() <-chan string { return d.lines }

// TestPullConformance runs the suite over a Pull source dialing a board's
// own WebSocket server, which sends every packet as one binary message to
// the connected client.
func TestPullConformance(t *testing.T) {
	sourcetest.Run(t, sourcetest.Kind{Name: "pull", New: func(t *testing.T) (source.Source, sourcetest.Device) {
		d := &boardServer{lines: make(chan string, 16), conns: make(chan *websocket.Conn, 1)}
		srv := httptest.NewServer(d)
		t.Cleanup(srv.Close)
		p, err := ingest.NewPull(ingest.PullOptions{Channel: "conf", URL: "ws" + strings.TrimPrefix(srv.URL, "http") + "/",
			BackoffMin: 10 * time.Millisecond, BackoffMax: 50 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		return p, d
	}})
}

// boardServer is a board running its own WebSocket server.
type boardServer struct {
	conn  liveConn
	lines chan string
	conns chan *websocket.Conn
}

func (d *boardServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c, err := websocket.Accept(w, r, nil)
	if err != nil {
		return
	}
	defer c.CloseNow()
	d.conn.set(c)
	defer d.conn.clear(c)
	forwardLines(r.Context(), c, d.lines)
}

// Write sends packet to the connected client as one binary message. A
// message over the source's limit makes it drop the connection and dial
// again: Write then waits for the new one.
func (d *boardServer) Write(t testing.TB, _, packet []byte) bool {
	if packet == nil {
		return false
	}
	c := d.current(t)
	c.Write(context.Background(), websocket.MessageBinary, packet)
	settle(t, &d.conn, c)
	return true
}

func (d *boardServer) current(t testing.TB) *websocket.Conn {
	return d.conn.wait(t, "the source to connect to the board")
}

func (d *boardServer) Lines() <-chan string { return d.lines }

// liveConn is a test device's current connection: set while it is up,
// nil between connections. Safe for concurrent use.
type liveConn struct {
	mu   sync.Mutex
	conn *websocket.Conn
}

func (l *liveConn) set(c *websocket.Conn) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.conn = c
}

// clear forgets c, unless a newer connection has replaced it.
func (l *liveConn) clear(c *websocket.Conn) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.conn == c {
		l.conn = nil
	}
}

// wait returns the current connection, waiting up to 5 s for one.
func (l *liveConn) wait(t testing.TB, what string) *websocket.Conn {
	t.Helper()
	var c *websocket.Conn
	testsupport.WaitFor(t, 5*time.Second, what, func() bool {
		l.mu.Lock()
		defer l.mu.Unlock()
		c = l.conn
		return c != nil
	})
	return c
}

// forwardLines passes the messages c receives to lines (dropping what
// lines has no room for) until c fails or ctx ends.
func forwardLines(ctx context.Context, c *websocket.Conn, lines chan<- string) {
	for {
		_, msg, err := c.Read(ctx)
		if err != nil {
			return
		}
		select {
		case lines <- string(msg):
		default:
		}
	}
}
