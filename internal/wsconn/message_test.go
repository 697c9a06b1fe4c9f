package wsconn

import (
	"bytes"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/coder/websocket"
)

// WriteMessage's messages reach a real WebSocket client whole and in
// order, with every header length (7-, 16- and 64-bit), corked and not,
// while the library pings the same connection from another goroutine.
func TestWriteMessageReachesAClient(t *testing.T) {
	s := newIdleServer(t)
	ctx, client := dialIdle(t, s)
	client.SetReadLimit(1 << 20)
	srv, cork := <-s.conn, <-s.cork
	sizes := []int{0, 1, 125, 126, 127, 1000, 65535, 65536, 70000, 300}
	want := make([][]byte, 0, 3*len(sizes))
	for r := 0; r < 3; r++ {
		for i, n := range sizes {
			m := make([]byte, n)
			for j := range m {
				m[j] = byte(r*31 + i + j)
				if len(want)%2 == 1 { // sent as text: valid UTF-8
					m[j] = 'a' + m[j]%26
				}
			}
			want = append(want, m)
		}
	}
	stop := make(chan struct{})
	var pinged atomic.Int32
	var pings sync.WaitGroup
	pings.Add(1)
	go func() { // the library's control frames share the connection
		defer pings.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			if err := srv.Ping(ctx); err != nil {
				return
			}
			pinged.Add(1)
		}
	}()
	errc := make(chan error, 1)
	go func() {
		for i, m := range want {
			op := OpBinary
			if i%2 == 1 {
				op = OpText
			}
			corked := i%3 != 0
			if corked {
				cork.Cork()
			}
			if err := cork.WriteMessage(op, m); err != nil {
				errc <- fmt.Errorf("message %d: %w", i, err)
				return
			}
			if corked {
				if err := cork.Uncork(); err != nil {
					errc <- err
					return
				}
			}
		}
		errc <- nil
	}()
	for i, m := range want {
		typ, got, err := client.Read(ctx)
		if err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
		wantTyp := websocket.MessageBinary
		if i%2 == 1 {
			wantTyp = websocket.MessageText
		}
		if typ != wantTyp || !bytes.Equal(got, m) {
			t.Fatalf("message %d: got %v of %d bytes, want %v of %d bytes, equal %v", i, typ, len(got), wantTyp, len(m), bytes.Equal(got, m))
		}
	}
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	client.CloseRead(ctx) // answers the last ping
	close(stop)
	pings.Wait()
	if pinged.Load() == 0 {
		t.Fatal("no ping completed while the messages went out: the test proved nothing about sharing")
	}
}

// After EndData a message is refused, and the close frame that follows is
// the last thing the client reads.
func TestEndDataStopsMessagesBeforeTheClose(t *testing.T) {
	s := newIdleServer(t)
	ctx, client := dialIdle(t, s)
	srv, cork := <-s.conn, <-s.cork
	if err := cork.WriteMessage(OpText, []byte("before")); err != nil {
		t.Fatal(err)
	}
	cork.EndData()
	cork.EndData() // idempotent
	if err := cork.WriteMessage(OpText, []byte("after")); !errors.Is(err, ErrDataEnded) {
		t.Fatalf("WriteMessage after EndData: %v, want ErrDataEnded", err)
	}
	cork.AllowIdle(false) // Close reads the client's close frame
	go srv.Close(websocket.StatusGoingAway, "bye")
	if _, m, err := client.Read(ctx); err != nil || string(m) != "before" {
		t.Fatalf("first read: %q, %v", m, err)
	}
	_, m, err := client.Read(ctx)
	if websocket.CloseStatus(err) != websocket.StatusGoingAway {
		t.Fatalf("second read: %q, %v; want the close frame (1001)", m, err)
	}
}
