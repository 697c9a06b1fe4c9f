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
	mu    sync.Mutex
	conn  *websocket.Conn
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
		d.mu.Lock()
		d.conn = c
		d.mu.Unlock()
		for {
			_, msg, err := c.Read(d.ctx)
			if err != nil {
				break
			}
			select {
			case d.lines <- string(msg):
			default:
			}
		}
		d.mu.Lock()
		d.conn = nil
		d.mu.Unlock()
		c.CloseNow()
	}
}

// current waits for a greeted connection.
func (d *pubDevice) current(t testing.TB) *websocket.Conn {
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		d.mu.Lock()
		c := d.conn
		d.mu.Unlock()
		if c != nil {
			return c
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatal("the device did not get connected")
	return nil
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
	// Serve closes the connection right after a message it refuses; give
	// it the time to, and wait for the reconnection if it did.
	time.Sleep(20 * time.Millisecond)
	d.current(t)
	return true
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
	mu    sync.Mutex
	conn  *websocket.Conn
	lines chan string
	conns chan *websocket.Conn
}

func (d *boardServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c, err := websocket.Accept(w, r, nil)
	if err != nil {
		return
	}
	defer c.CloseNow()
	d.mu.Lock()
	d.conn = c
	d.mu.Unlock()
	defer func() {
		d.mu.Lock()
		if d.conn == c {
			d.conn = nil
		}
		d.mu.Unlock()
	}()
	for {
		_, msg, err := c.Read(r.Context())
		if err != nil {
			return
		}
		select {
		case d.lines <- string(msg):
		default:
		}
	}
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
	time.Sleep(20 * time.Millisecond)
	d.current(t)
	return true
}

func (d *boardServer) current(t testing.TB) *websocket.Conn {
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		d.mu.Lock()
		c := d.conn
		d.mu.Unlock()
		if c != nil {
			return c
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatal("the source is not connected to the board")
	return nil
}

func (d *boardServer) Lines() <-chan string { return d.lines }
