package sink

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"

	"github.com/wsbridge/wsbridge/internal/periodic"
)

// healthyAfter is how long a connection must last (after its hello) for
// the reconnect delay to start again from the minimum.
const healthyAfter = 2 * time.Second

// maxMessage is the largest message the sink accepts from serve.
const maxMessage = 1 << 20

// client dials serve and runs sessions. The connection loop owns it; cur
// is read by the upstream goroutine to send commands.
type client struct {
	o      *Options
	http   *http.Client
	header http.Header
	cur    atomic.Pointer[websocket.Conn]
}

func newClient(o *Options) (*client, error) {
	c := &client{o: o, header: http.Header{}}
	if o.Token != "" {
		c.header.Set("Authorization", "Bearer "+o.Token)
	}
	if o.CACert != "" {
		pem, err := os.ReadFile(o.CACert)
		if err != nil {
			return nil, fmt.Errorf("%w: failed to read --ca-cert: %w", ErrOptions, err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("%w: --ca-cert %s holds no PEM certificate", ErrOptions, o.CACert)
		}
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
		c.http = &http.Client{Transport: tr}
	}
	return c, nil
}

// dialURL is --url with the resume position and the binary format.
func (c *client) dialURL(since uint32, resume bool) string {
	u, _ := url.Parse(c.o.URL)
	q := u.Query()
	q.Set("format", "binary")
	if resume {
		q.Set("since", strconv.FormatUint(uint64(since), 10))
	}
	u.RawQuery = q.Encode()
	return u.String()
}

// dial connects and returns the connection.
func (c *client) dial(ctx context.Context, u string) (*websocket.Conn, error) {
	dctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	conn, resp, err := websocket.Dial(dctx, u, &websocket.DialOptions{HTTPClient: c.http, HTTPHeader: c.header})
	if err != nil {
		return nil, dialError(err, resp)
	}
	conn.SetReadLimit(maxMessage)
	return conn, nil
}

// dialError makes a refused handshake actionable.
func dialError(err error, resp *http.Response) error {
	if resp == nil {
		return err
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	msg := string(bytes.TrimSpace(body))
	switch resp.StatusCode {
	case http.StatusUnauthorized, http.StatusForbidden:
		return fmt.Errorf("server refused the connection (HTTP %d %s): check --token: %w", resp.StatusCode, msg, err)
	case http.StatusServiceUnavailable, http.StatusTooManyRequests:
		return fmt.Errorf("server is full (HTTP %d %s): %w", resp.StatusCode, msg, err)
	}
	return fmt.Errorf("HTTP %d %s: %w", resp.StatusCode, msg, err)
}

// send writes a JSON text message on the current connection.
func (c *client) send(ctx context.Context, v any) error {
	conn := c.cur.Load()
	if conn == nil {
		return errNotConnected
	}
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	return conn.Write(wctx, websocket.MessageText, b)
}

var errNotConnected = errors.New("not connected to serve")

// readMessage reads one message into buf.
func readMessage(ctx context.Context, conn *websocket.Conn, buf *bytes.Buffer) (websocket.MessageType, error) {
	typ, r, err := conn.Reader(ctx)
	if err != nil {
		return 0, err
	}
	buf.Reset()
	_, err = buf.ReadFrom(r)
	return typ, err
}

// pinger closes conn when serve stops answering pings. It pauses while
// paused() (the producer is blocked on a full queue, so nobody reads the
// pongs).
func pinger(ctx context.Context, conn *websocket.Conn, every time.Duration, paused func() bool, dead func()) {
	if every <= 0 {
		return
	}
	periodic.Every(ctx, every, nil, func() bool {
		if paused() {
			return true
		}
		pctx, cancel := context.WithTimeout(ctx, every)
		err := conn.Ping(pctx)
		cancel()
		if err != nil && ctx.Err() == nil && !paused() {
			dead()
			conn.CloseNow()
			return false
		}
		return true
	})
}
