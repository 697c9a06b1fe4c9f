package testsupport

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/wsbridge/wsbridge/internal/wsproto"
)

// Dial connects a WebSocket client to url with the header h (may be nil)
// within 5 s, with a 1 MiB read limit. The connection is closed when the
// test ends.
func Dial(t testing.TB, url string, h http.Header) *websocket.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, resp, err := websocket.Dial(ctx, url, &websocket.DialOptions{HTTPHeader: h})
	if err != nil {
		status := "no response"
		if resp != nil {
			status = resp.Status
		}
		t.Fatalf("dial %s: %v (%s)", url, err, status)
	}
	c.SetReadLimit(1 << 20)
	t.Cleanup(func() { c.CloseNow() })
	return c
}

// ExpectHello reads the first message within 5 s and fails the test
// unless it is wsbridge's hello, which it returns.
func ExpectHello(t testing.TB, c *websocket.Conn) wsproto.Hello {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	typ, b, err := c.Read(ctx)
	if err != nil {
		t.Fatalf("reading hello: %v", err)
	}
	var h wsproto.Hello
	if typ != websocket.MessageText || json.Unmarshal(b, &h) != nil || h.Type != wsproto.TypeHello {
		t.Fatalf("first message %q (%v), want hello", b, typ)
	}
	return h
}
