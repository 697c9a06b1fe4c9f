package ingest

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
	"github.com/rs/zerolog"

	"github.com/wsbridge/wsbridge/internal/frame"
	"github.com/wsbridge/wsbridge/internal/source"
)

// PullOptions configure a Pull source.
type PullOptions struct {
	Channel string // the channel's name (logs)
	URL     string // the board's own WebSocket server: ws://esp32-mic.local:81/
	Token   string // sent as "Authorization: Bearer TOKEN" if set
	CACert  string // PEM file to trust for wss:// (a board's self-signed certificate)
	Input   string // auto (default), v1, text, json
	Rate    uint32 // text/JSON: the rate to announce; 0 measures it
	// BackoffMin and BackoffMax bound the wait between attempts: it doubles
	// after each failure, with jitter (a random half of it), and starts
	// again at BackoffMin after a connection that worked.
	BackoffMin, BackoffMax time.Duration
	// PingInterval: the board is pinged this often; no pong within the
	// next interval drops the connection (a board that lost power sends
	// no FIN).
	PingInterval time.Duration
	Log          zerolog.Logger
}

// Pull is the source of a channel whose device runs its own WebSocket
// server (the tutorials' sketches: ESPAsyncWebServer's AsyncWebSocket or
// arduinoWebSockets' WebSocketsServer broadcasting to every client): serve
// dials it and reads what it broadcasts, binary v1 packets, text lines or
// JSON, like /pub. It reconnects with backoff and jitter for as long as
// it runs. Command sends a command line to the board as a text message.
//
// A pulled board sends no sequence numbers of its own unless it sends v1
// frames, and nothing is resent after a reconnect. Messages the decoder
// refuses are counted and skipped (the board is the server: there is no
// one to tell).
type Pull struct {
	opts   PullOptions
	client *http.Client
	dec    *Decoder // owned by Run's goroutine

	mu   sync.Mutex
	conn *websocket.Conn // the current connection, for Command
	wmu  sync.Mutex      // one writer at a time

	connects, failures, skipped atomic.Uint64
	connected                   atomic.Bool
	logs                        limiter
}

var _ source.Source = (*Pull)(nil)

// NewPull checks opts and returns the source.
func NewPull(opts PullOptions) (*Pull, error) {
	u, err := url.Parse(opts.URL)
	if err != nil || (u.Scheme != "ws" && u.Scheme != "wss") || u.Host == "" {
		return nil, fmt.Errorf("pull: want ws://HOST[:PORT]/PATH or wss://..., got %q", opts.URL)
	}
	opts.BackoffMin = cmpOr(opts.BackoffMin, 500*time.Millisecond)
	opts.BackoffMax = max(cmpOr(opts.BackoffMax, 30*time.Second), opts.BackoffMin)
	opts.PingInterval = cmpOr(opts.PingInterval, DefaultPingInterval)
	dec, err := NewDecoder(Options{Input: opts.Input, Rate: opts.Rate})
	if err != nil {
		return nil, fmt.Errorf("channel %s: %w", opts.Channel, err)
	}
	p := &Pull{opts: opts, dec: dec, client: &http.Client{}}
	if opts.CACert != "" {
		pem, err := os.ReadFile(opts.CACert)
		if err != nil {
			return nil, fmt.Errorf("failed to read the CA certificate: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("%s holds no PEM certificate", opts.CACert)
		}
		p.client.Transport = &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}
	}
	return p, nil
}

func cmpOr(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

// Run dials the board and reads it until ctx ends, reconnecting after
// every failure.
func (p *Pull) Run(ctx context.Context, pub source.Publisher) error {
	log := p.opts.Log.With().Str("url", p.opts.URL).Logger()
	pub.Down("connecting to " + p.opts.URL)
	backoff := p.opts.BackoffMin
	for ctx.Err() == nil {
		reason, worked := p.session(ctx, pub, log)
		if ctx.Err() != nil {
			return nil
		}
		if worked {
			backoff = p.opts.BackoffMin
			pub.Down(reason)
			log.Info().Str("reason", reason).Msg("pulled device disconnected; reconnecting")
		} else {
			p.failures.Add(1)
			p.logs.do("dial", func(suppressed int) {
				log.Warn().Str("reason", reason).Int("suppressed", suppressed).Dur("retry_in", backoff).Msg("cannot reach the pulled device")
			})
		}
		wait := backoff/2 + rand.N(backoff/2+1) // equal jitter: boards rebooting together do not come back in step
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(wait):
		}
		if !worked {
			backoff = min(2*backoff, p.opts.BackoffMax)
		}
	}
	return nil
}

// session runs one connection. worked says whether it connected.
func (p *Pull) session(ctx context.Context, pub source.Publisher, log zerolog.Logger) (reason string, worked bool) {
	dctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	h := http.Header{}
	if p.opts.Token != "" {
		h.Set("Authorization", "Bearer "+p.opts.Token)
	}
	conn, resp, err := websocket.Dial(dctx, p.opts.URL, &websocket.DialOptions{HTTPClient: p.client, HTTPHeader: h})
	cancel()
	if err != nil {
		if resp != nil && resp.StatusCode != http.StatusSwitchingProtocols {
			return fmt.Sprintf("HTTP %d from %s (is it a WebSocket endpoint? the path is part of the URL)", resp.StatusCode, p.opts.URL), false
		}
		return err.Error(), false
	}
	defer conn.CloseNow()
	conn.SetReadLimit(MaxMessage)
	p.connects.Add(1)
	p.connected.Store(true)
	defer p.connected.Store(false)
	p.mu.Lock()
	p.conn = conn
	p.mu.Unlock()
	defer func() { p.mu.Lock(); p.conn = nil; p.mu.Unlock() }()
	p.dec.Reset()
	pub.Up("connected to " + p.opts.URL)
	log.Info().Msg("pulled device connected")
	sctx, stop := context.WithCancelCause(ctx)
	defer stop(nil)
	defer context.AfterFunc(ctx, func() { conn.Close(websocket.StatusGoingAway, "serve is shutting down") })()
	go p.pinger(sctx, stop, conn)
	return p.read(sctx, conn, pub, log), true
}

func (p *Pull) read(ctx context.Context, conn *websocket.Conn, pub source.Publisher, log zerolog.Logger) string {
	buf := make([]byte, 0, 4096)
	for {
		typ, msg, err := readMessage(context.Background(), conn, &buf) // ends when the connection is closed
		if err != nil {
			if cause := context.Cause(ctx); cause != nil && !errors.Is(cause, context.Canceled) {
				return cause.Error()
			}
			if st := websocket.CloseStatus(err); st != -1 {
				return fmt.Sprintf("the device closed the connection (%d)", st)
			}
			return "connection lost: " + err.Error()
		}
		err = p.dec.Decode(typ == websocket.MessageBinary, msg, func(pk *frame.Packet) { pub.Packet(pk) })
		var me *MessageError
		if errors.As(err, &me) {
			p.skipped.Add(1)
			p.logs.do("skip:"+me.Reason, func(suppressed int) {
				log.Warn().Str("reason", me.Reason).Int("suppressed", suppressed).Msg("message from the pulled device skipped: " + me.Msg)
			})
		}
	}
}

var errPullNoPong = errors.New("the device did not answer a ping")

func (p *Pull) pinger(ctx context.Context, stop context.CancelCauseFunc, conn *websocket.Conn) {
	t := time.NewTicker(p.opts.PingInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		pctx, cancel := context.WithTimeout(ctx, p.opts.PingInterval)
		err := conn.Ping(pctx)
		cancel()
		if err != nil && ctx.Err() == nil {
			stop(errPullNoPong)
			conn.CloseNow()
			return
		}
	}
}

// Command sends one command line to the board as a text message.
func (p *Pull) Command(line string) error {
	if err := checkCommand(line); err != nil {
		return err
	}
	p.mu.Lock()
	conn := p.conn
	p.mu.Unlock()
	if conn == nil {
		return fmt.Errorf("channel %s: not connected to %s: %w", p.opts.Channel, p.opts.URL, source.ErrDown)
	}
	ctx, cancel := context.WithTimeout(context.Background(), commandTimeout)
	defer cancel()
	p.wmu.Lock()
	defer p.wmu.Unlock()
	if err := conn.Write(ctx, websocket.MessageText, []byte(line)); err != nil {
		return fmt.Errorf("failed to send the command to the device: %w", err)
	}
	return nil
}

// Counters reports the source's counters.
func (p *Pull) Counters() []source.Counter {
	up := 0.0
	if p.connected.Load() {
		up = 1
	}
	return []source.Counter{
		{Name: "pull_connected", Help: "1 while serve is connected to the pulled device.", Value: up, Gauge: true},
		{Name: "pull_connects_total", Help: "Connections made to the pulled device.", Value: float64(p.connects.Load())},
		{Name: "pull_connect_failures_total", Help: "Attempts to reach the pulled device that failed.", Value: float64(p.failures.Load())},
		{Name: "pull_skipped_total", Help: "Messages from the pulled device skipped as unreadable.", Value: float64(p.skipped.Load())},
	}
}
