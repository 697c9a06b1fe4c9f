package relay

import (
	"context"
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/wsbridge/wsbridge/internal/testsupport"
)

// With --tls-cert/--tls-key the stream is wss:// and carries frames.
func TestTLS(t *testing.T) {
	certFile, keyFile, pool := testsupport.SelfSigned(t)
	s, base := testServer(t, Options{TLSCert: certFile, TLSKey: keyFile})
	if !strings.HasPrefix(base, "https://127.0.0.1:") || !strings.HasPrefix(WSURL(base), "wss://") {
		t.Fatalf("base %s, ws %s", base, WSURL(base))
	}
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, WSURL(base), &websocket.DialOptions{HTTPClient: hc})
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	testsupport.ExpectHello(t, c)
	publish(t, s, 0, 5)
	expectFrames(t, c, 0, 5)

	bad := Options{Listen: "127.0.0.1:0", TLSCert: certFile, TLSKey: certFile}
	srv, err := New(bad)
	if err == nil {
		_, err = srv.Listen()
	}
	if err == nil || !strings.Contains(err.Error(), "failed to load --tls-cert") {
		t.Fatalf("bad key: %v", err)
	}
}

// A client that sends its request headers slowly is cut off after the
// header timeout; the stream goes on for the others.
func TestSlowHeadersCutOff(t *testing.T) {
	s, err := New(Options{Listen: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	s.http.ReadHeaderTimeout = 200 * time.Millisecond
	ch, err := s.AddChannel(ChannelOptions{Name: "default"})
	if err != nil {
		t.Fatal(err)
	}
	base, cancel, done := serve(t, s)
	t.Cleanup(func() { // after the clients' cleanups
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	live := testsupport.Dial(t, wsURL(base, ""), nil)
	testsupport.ExpectHello(t, live)
	slow, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Close()
	io.WriteString(slow, "GET /ws HTTP/1.1\r\nHost: x\r\n") // and never the end of the headers
	slow.SetReadDeadline(time.Now().Add(3 * time.Second))
	start := time.Now()
	_, err = io.ReadAll(slow)
	if err != nil || time.Since(start) > 2*time.Second {
		t.Fatalf("slow-header connection not cut: %v after %v", err, time.Since(start))
	}
	publish(t, ch, 0, 3)
	expectFrames(t, live, 0, 3)
}
