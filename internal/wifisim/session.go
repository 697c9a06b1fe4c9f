package wifisim

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"time"

	"github.com/coder/websocket"

	"github.com/wsbridge/wsbridge/internal/ingest"
)

// connectLoop connects, runs a session, and after it ends waits the fixed
// reconnect interval, until ctx ends.
func (b *Board) connectLoop(ctx context.Context, port io.Writer) {
	client, err := b.httpClient()
	if err != nil {
		b.opts.Log.Error().Err(err).Msg("cannot connect")
		return
	}
	var lastWarn time.Time
	failing := 0
	for ctx.Err() == nil {
		greeted, err := b.session(ctx, client, port)
		if ctx.Err() != nil {
			return
		}
		b.count(func(s *Stats) {
			s.LastError = err.Error()
			if greeted {
				s.Disconnects++
			} else {
				s.ConnectFailures++
			}
		})
		if greeted {
			b.opts.Log.Info().Err(err).Dur("retry_in", b.opts.ReconnectInterval).Msg("disconnected from serve; frames wait in the ring")
			failing = 0
		} else if failing++; time.Since(lastWarn) >= 10*time.Second {
			b.opts.Log.Warn().Err(err).Int("attempts", failing).Dur("retry_every", b.opts.ReconnectInterval).Msg("cannot connect to serve")
			lastWarn = time.Now()
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(b.opts.ReconnectInterval):
		}
	}
}

// httpClient dials Via (or the URL's host) and trusts CACert for wss.
func (b *Board) httpClient() (*http.Client, error) {
	tr := &http.Transport{TLSHandshakeTimeout: b.opts.SendTimeout}
	if b.opts.CACert != "" {
		pem, err := os.ReadFile(b.opts.CACert)
		if err != nil {
			return nil, fmt.Errorf("failed to read --ca-cert: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("--ca-cert %s holds no PEM certificate", b.opts.CACert)
		}
		tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	}
	if via := b.via(); via != "" {
		tr.DialContext = func(ctx context.Context, network, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, network, via)
		}
	}
	return &http.Client{Transport: tr}, nil
}

func (b *Board) via() string {
	if p := b.proxy.Load(); p != nil {
		return p.Addr()
	}
	return b.opts.Via
}

// session runs one connection: dial, greeting, resend, then live until
// something fails. greeted says whether it got as far as the greeting.
func (b *Board) session(ctx context.Context, client *http.Client, port io.Writer) (greeted bool, err error) {
	conn, err := b.dial(ctx, client)
	if err != nil {
		return false, err
	}
	defer conn.CloseNow()
	conn.SetReadLimit(maxIncoming)
	g, err := b.greeting(ctx, conn)
	if err != nil {
		return false, err
	}
	sctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	b.connected.Store(true)
	defer b.connected.Store(false)
	if b.ring != nil { // overwritten from here until the link goes: overruns
		b.count(func(*Stats) { b.owBase, b.owLive = b.ring.Stats().Overwritten, true })
		defer b.count(func(s *Stats) { s.Overrun += b.ring.Stats().Overwritten - b.owBase; b.owLive = false })
	}
	b.resume(g)
	go func() { cancel(b.read(sctx, conn, port)) }()
	if h := b.opts.Heartbeat; h.Interval > 0 {
		go func() { cancel(b.heartbeat(sctx, conn)) }()
	}
	err = b.send(sctx, conn)
	if cause := context.Cause(sctx); cause != nil && !errors.Is(cause, context.Canceled) {
		err = cause
	}
	conn.Close(websocket.StatusNormalClosure, "")
	return true, err
}

func (b *Board) dial(ctx context.Context, client *http.Client) (*websocket.Conn, error) {
	dctx, cancel := context.WithTimeout(ctx, b.opts.SendTimeout)
	defer cancel()
	u, _ := url.Parse(b.opts.URL)
	q := u.Query()
	q.Set("boot", b.opts.Boot)
	u.RawQuery = q.Encode()
	h := http.Header{}
	if b.opts.Token != "" {
		h.Set("Authorization", "Bearer "+b.opts.Token)
	}
	h.Set("Origin", "file://") // what arduinoWebSockets sends
	conn, resp, err := websocket.Dial(dctx, u.String(), &websocket.DialOptions{HTTPClient: client, HTTPHeader: h,
		Subprotocols: []string{"arduino"}})
	if err != nil {
		if resp != nil && resp.StatusCode != http.StatusSwitchingProtocols {
			return nil, fmt.Errorf("refused with HTTP %d: %w", resp.StatusCode, err)
		}
		return nil, err
	}
	return conn, nil
}

// greeting reads serve's first message.
func (b *Board) greeting(ctx context.Context, conn *websocket.Conn) (ingest.Greeting, error) {
	gctx, cancel := context.WithTimeout(ctx, b.opts.SendTimeout)
	defer cancel()
	typ, msg, err := conn.Read(gctx)
	if err != nil {
		return ingest.Greeting{}, fmt.Errorf("no greeting: %w", err)
	}
	if typ != websocket.MessageText {
		return ingest.Greeting{}, errors.New("no greeting: the first message is binary")
	}
	return ingest.ParseGreeting(msg)
}

// resume applies the resend rule and logs what it decided.
func (b *Board) resume(g ingest.Greeting) {
	b.count(func(s *Stats) { s.Connects++; s.Epoch = g.Epoch })
	ev := b.opts.Log.Info().Str("epoch", g.Epoch)
	if g.LastSeq != nil {
		ev = ev.Uint32("last_seq", *g.LastSeq)
	}
	if b.ring == nil {
		ev.Msg("connected")
		return
	}
	r := b.ring.Resume(g.LastSeq != nil, deref(g.LastSeq))
	if r.Gap {
		b.count(func(s *Stats) { s.ResumeGaps++ })
		ev = ev.Bool("gap", true)
	}
	ev.Int("resend", r.Frames).Uint32("from", r.From).Bool("serve_ahead", r.Ahead).Msg("connected")
}

func deref(p *uint32) uint32 {
	if p == nil {
		return 0
	}
	return *p
}

// read takes serve's messages: commands go to the device.
func (b *Board) read(ctx context.Context, conn *websocket.Conn, port io.Writer) error {
	for {
		typ, msg, err := conn.Read(ctx)
		if err != nil {
			return err
		}
		if typ != websocket.MessageText || ingest.IsGreeting(msg) {
			continue
		}
		b.count(func(s *Stats) { s.Commands++ })
		if _, err := port.Write(append(msg, '\n')); err != nil {
			return fmt.Errorf("simulated device: %w", err)
		}
	}
}

// heartbeat is enableHeartbeat: Failures missed pongs in a row end the
// connection.
func (b *Board) heartbeat(ctx context.Context, conn *websocket.Conn) error {
	h := b.opts.Heartbeat
	missed := 0
	t := time.NewTicker(h.Interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		pctx, cancel := context.WithTimeout(ctx, h.Timeout)
		err := conn.Ping(pctx)
		cancel()
		switch {
		case ctx.Err() != nil:
			return nil
		case err == nil:
			missed = 0
		default:
			if missed++; missed >= h.Failures {
				return fmt.Errorf("heartbeat: %d pongs missed", missed)
			}
		}
	}
}

// send writes the device info, then whatever the ring and the live queue
// hold, in order, until ctx ends or a write fails.
func (b *Board) send(ctx context.Context, conn *websocket.Conn) error {
	typ := websocket.MessageText
	if b.ring != nil {
		typ = websocket.MessageBinary
		if in := b.info.Load(); in != nil {
			if err := b.write(ctx, conn, typ, in.Raw); err != nil {
				return err
			}
		}
	}
	var buf []byte
	for {
		select {
		case msg := <-b.live:
			if err := b.write(ctx, conn, typ, msg); err != nil {
				return err
			}
			b.count(func(s *Stats) { s.LiveSent++ })
			continue
		default:
		}
		if b.ring != nil {
			if p, ok := b.ring.Next(buf); ok {
				buf = p
				if err := b.write(ctx, conn, typ, p); err != nil {
					return err
				}
				continue
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-b.wake:
		case msg := <-b.live:
			if err := b.write(ctx, conn, typ, msg); err != nil {
				return err
			}
			b.count(func(s *Stats) { s.LiveSent++ })
		}
	}
}

func (b *Board) write(ctx context.Context, conn *websocket.Conn, typ websocket.MessageType, msg []byte) error {
	wctx, cancel := context.WithTimeout(ctx, b.opts.SendTimeout)
	defer cancel()
	if err := conn.Write(wctx, typ, msg); err != nil {
		return fmt.Errorf("send: %w", err)
	}
	return nil
}
