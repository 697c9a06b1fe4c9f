package record

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
	"github.com/rs/zerolog"

	"github.com/wsbridge/wsbridge/internal/frame"
	"github.com/wsbridge/wsbridge/internal/wsproto"
)

// event is one thing serve said, handed from the connection goroutine to
// the stream's writer. Exactly one pointer is set.
type event struct {
	hello   *wsproto.Hello
	resumed bool // hello: this connection resumes an earlier one
	frame   *frame.Frame
	gap     *wsproto.Gap
	status  *wsproto.Status
	device  *wsproto.Device
}

// conn connects to one serve URL for as long as its context lives,
// reconnecting with backoff and resuming with ?since=&epoch= after the
// last frame it passed on. It owns the WebSocket.
type conn struct {
	o           *Options
	url         string
	log         zerolog.Logger
	http        *http.Client
	header      http.Header
	connections atomic.Uint64

	// resume position, owned by run
	next    uint32
	epoch   wsproto.Epoch
	started bool
}

func newConn(o *Options, rawURL string, log zerolog.Logger) (*conn, error) {
	c := &conn{o: o, url: rawURL, log: log, header: http.Header{}}
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

// run connects until ctx ends, then closes out.
func (c *conn) run(ctx context.Context, out chan<- event) {
	defer close(out)
	delay := c.o.BackoffMin
	for attempt := 1; ctx.Err() == nil; attempt++ {
		began := time.Now()
		err := c.session(ctx, out)
		if ctx.Err() != nil {
			return
		}
		if time.Since(began) > 2*time.Second {
			delay, attempt = c.o.BackoffMin, 1
		}
		d := delay/2 + time.Duration(rand.Float64()*float64(delay/2))
		delay = min(delay*2, c.o.BackoffMax)
		ev := c.log.Warn()
		if attempt > 2 && attempt%10 != 0 {
			ev = c.log.Debug()
		}
		ev.Err(err).Int("attempt", attempt).Dur("retry_in", d).Msg("disconnected from serve; reconnecting")
		select {
		case <-ctx.Done():
			return
		case <-time.After(d):
		}
	}
}

// dialURL is the URL with the binary format and the resume position.
func (c *conn) dialURL() string {
	u, _ := url.Parse(c.url)
	q := u.Query()
	q.Set("format", "binary")
	if c.started {
		q.Set("since", strconv.FormatUint(uint64(c.next), 10))
		if c.epoch != "" {
			q.Set("epoch", c.epoch)
		}
	}
	u.RawQuery = q.Encode()
	return u.String()
}

// session runs one connection until it fails or ctx ends.
func (c *conn) session(ctx context.Context, out chan<- event) error {
	dctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	ws, resp, err := websocket.Dial(dctx, c.dialURL(), &websocket.DialOptions{HTTPClient: c.http, HTTPHeader: c.header})
	cancel()
	if err != nil {
		return fmt.Errorf("failed to connect to %s: %w", safeURL(c.url), dialError(err, resp))
	}
	defer ws.CloseNow()
	ws.SetReadLimit(1 << 20)
	// Reads use a context shutdown does not cancel; shutdown closes the
	// connection with 1000 instead, which ends the read.
	rctx, rcancel := context.WithCancel(context.WithoutCancel(ctx))
	defer rcancel()
	stop := context.AfterFunc(ctx, func() { ws.Close(websocket.StatusNormalClosure, "record stopping") })
	defer stop()
	go c.ping(rctx, ws)
	resumed := c.started
	var buf bytes.Buffer
	for first := true; ; first = false {
		typ, err := read(rctx, ws, &buf)
		if err != nil {
			return err
		}
		ev, ok := c.decode(typ, buf.Bytes())
		if first && ev.hello == nil {
			return errors.New("server did not start with a hello message: is --url a wsbridge serve /ws endpoint?")
		}
		if !ok {
			continue
		}
		if ev.hello != nil {
			n := c.connections.Add(1)
			ev.resumed = resumed
			c.log.Info().Str("server", ev.hello.Server).Str("channel", ev.hello.Channel).Str("epoch", ev.hello.Epoch).
				Uint32("start_seq", ev.hello.StartSeq).Uint64("connection", n).Msg("connected to serve")
		}
		select {
		case out <- ev:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// decode turns a message into an event and advances the resume position.
func (c *conn) decode(typ websocket.MessageType, b []byte) (event, bool) {
	if typ == websocket.MessageBinary {
		var p frame.Packet
		if err := frame.Parse(&p, b); err != nil || p.Type != frame.TypeData {
			c.log.Warn().Err(err).Int("bytes", len(b)).Msg("ignoring a binary message that is not a valid v1 data frame")
			return event{}, false
		}
		f := p.Frame
		f.Data = bytes.Clone(f.Data[:f.PayloadSize()])
		c.next, c.started = f.Seq+1, true
		return event{frame: &f}, true
	}
	var probe struct {
		Type string `json:"type"`
	}
	if json.Unmarshal(b, &probe) != nil {
		return event{}, false
	}
	var ev event
	var err error
	switch probe.Type {
	case wsproto.TypeHello:
		ev.hello = new(wsproto.Hello)
		err = json.Unmarshal(b, ev.hello)
		if err == nil && ev.hello.Epoch != "" && ev.hello.Epoch != c.epoch {
			if c.started { // another count: resume from its start
				c.next = ev.hello.StartSeq
			}
			c.epoch = ev.hello.Epoch
		}
	case wsproto.TypeGap:
		ev.gap = new(wsproto.Gap)
		err = json.Unmarshal(b, ev.gap)
		if err == nil && (!c.started || int32(ev.gap.To+1-c.next) > 0) {
			c.next, c.started = ev.gap.To+1, true
		}
	case wsproto.TypeStatus:
		ev.status = new(wsproto.Status)
		err = json.Unmarshal(b, ev.status)
		if err == nil && ev.status.State == wsproto.StateRestart {
			c.next, c.started = ev.status.Seq, true
			if ev.status.Epoch != "" {
				c.epoch = ev.status.Epoch
			}
		}
	case wsproto.TypeInfo:
		var in wsproto.Info
		err = json.Unmarshal(b, &in)
		ev.device = &in.Device
	case wsproto.TypeError:
		var e wsproto.Error
		json.Unmarshal(b, &e)
		c.log.Warn().Str("code", e.Code).Msgf("serve answered: %s", e.Message)
		return event{}, false
	default:
		return event{}, false
	}
	if err != nil {
		c.log.Warn().Err(err).Str("type", probe.Type).Msg("ignoring a malformed message")
		return event{}, false
	}
	return ev, true
}

// ping drops a connection whose server stopped answering (a frozen host,
// a half-open connection after Wi-Fi roaming).
func (c *conn) ping(ctx context.Context, ws *websocket.Conn) {
	const every = 5 * time.Second
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			pctx, cancel := context.WithTimeout(ctx, every)
			err := ws.Ping(pctx)
			cancel()
			if err != nil && ctx.Err() == nil {
				c.log.Warn().Msg("serve does not answer pings: dropping the connection")
				ws.CloseNow()
				return
			}
		}
	}
}

func read(ctx context.Context, ws *websocket.Conn, buf *bytes.Buffer) (websocket.MessageType, error) {
	typ, r, err := ws.Reader(ctx)
	if err != nil {
		return 0, err
	}
	buf.Reset()
	_, err = buf.ReadFrom(r)
	return typ, err
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
	case http.StatusNotFound:
		return fmt.Errorf("no such stream (HTTP 404 %s): check the URL's channel name: %w", msg, err)
	}
	return fmt.Errorf("HTTP %d %s: %w", resp.StatusCode, msg, err)
}
