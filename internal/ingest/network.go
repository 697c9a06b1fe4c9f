package ingest

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/coder/websocket"
	"github.com/rs/zerolog"

	"github.com/wsbridge/wsbridge/internal/frame"
	"github.com/wsbridge/wsbridge/internal/source"
)

// Defaults of NetworkOptions.
const (
	DefaultPingInterval = 10 * time.Second
	DefaultProbeTimeout = 2 * time.Second
	commandTimeout      = 2 * time.Second
)

// NetworkOptions configure a Network source.
type NetworkOptions struct {
	Channel string // the channel's name (in the greeting and logs)
	Token   string // the device's token; "" lets any request in (tests, loopback labs)
	Input   string // what the device sends: auto (default), v1, text, json
	Rate    uint32 // text/JSON: the rate to announce; 0 estimates it
	// Commands says in the greeting whether clients may send commands.
	Commands bool
	// PingInterval: serve pings the publisher this often and closes it
	// drops it when no pong comes back within the next interval.
	PingInterval time.Duration
	// ProbeTimeout: how long the current publisher has to answer the ping
	// a second connection triggers before it is replaced.
	ProbeTimeout time.Duration
	Server       string // "wsbridge <version>" for the greeting
	// Epoch names the channel's current epoch for the greeting; nil asks
	// the Publisher given to Run (relay.Channel has Epoch()).
	Epoch func() string
	Log   zerolog.Logger // serve's carries the channel's name
}

// Network is the source of a channel whose device connects to serve and
// publishes on /pub/<name> (docs/protocol.md, "Wi-Fi devices"). It
// implements source.Source: Run attaches it to its channel, ServeHTTP
// takes each device connection (one publisher at a time), Command sends
// a command line to the device.
//
// All methods are safe for concurrent use. Run returns when its context
// ends; connections taken before that are closed with 1001.
type Network struct {
	opts NetworkOptions

	ready chan struct{} // closed when Run has the publisher
	pub   source.Publisher
	ctx   context.Context
	dec   *Decoder

	admit sync.Mutex // one admission at a time
	mu    sync.Mutex // guards cur, boot, last, have, and every call to pub and dec
	cur   *session
	boot  string // the boot of the newest publisher
	last  uint32 // the newest device seq received from boot
	have  bool

	stats netStats
	logs  limiter

	noLoop    atomic.Bool   // tests: sessions read on their own goroutines (as over TLS)
	loopReads atomic.Uint64 // reads a pubLoop made for this source's sessions (tests)
}

type netStats struct {
	connections, busy, replaced, noPong, unauthorized atomic.Uint64
	refused                                           sync.Map // reason -> *atomic.Uint64
}

// session is one publisher connection.
type session struct {
	ctx    context.Context
	pc     *pubConn
	addr   string
	boot   string
	since  time.Time
	cancel context.CancelCauseFunc
	done   chan struct{}

	// The reading side, which the session's goroutine or its loop owns
	// in turn (never both).
	binary bool                // the message being decoded is binary
	emit   func(*frame.Packet) // the decoder's, made once per session
	flush  func()              // the channel's Flush (holder); nil: none
	reg    *pubReg             // the loop that reads the connection; nil: none
}

var _ source.Source = (*Network)(nil)

// NewNetwork checks opts and returns the source.
func NewNetwork(opts NetworkOptions) (*Network, error) {
	if opts.PingInterval <= 0 {
		opts.PingInterval = DefaultPingInterval
	}
	if opts.ProbeTimeout <= 0 {
		opts.ProbeTimeout = DefaultProbeTimeout
	}
	dec, err := NewDecoder(Options{Input: opts.Input, Rate: opts.Rate, OnIgnore: func(f string) {
		opts.Log.Info().Str("field", f).Msg("JSON field is not a number: ignored (counted in ingest_ignored_fields_total)")
	}})
	if err != nil {
		return nil, fmt.Errorf("channel %s: %w", opts.Channel, err)
	}
	return &Network{opts: opts, ready: make(chan struct{}), dec: dec}, nil
}

// Run attaches the source to its channel and waits for ctx to end.
func (n *Network) Run(ctx context.Context, pub source.Publisher) error {
	n.mu.Lock()
	n.pub, n.ctx = pub, ctx
	n.mu.Unlock()
	close(n.ready)
	pub.Down("waiting for the device to connect to /pub/" + n.opts.Channel)
	<-ctx.Done()
	n.mu.Lock()
	s := n.cur
	n.mu.Unlock()
	if s != nil {
		s.pc.sendClose(uint16(websocket.StatusGoingAway), "serve is shutting down") // its reader ends the session
		<-s.done
	}
	return nil
}

// Command sends one command line to the connected device.
func (n *Network) Command(line string) error {
	if err := checkCommand(line); err != nil {
		return err
	}
	n.mu.Lock()
	s := n.cur
	n.mu.Unlock()
	if s == nil {
		return fmt.Errorf("channel %s has no device connected to /pub/%s: %w", n.opts.Channel, n.opts.Channel, source.ErrDown)
	}
	if err := s.pc.text([]byte(line)); err != nil {
		return fmt.Errorf("failed to send the command to the device: %w", err)
	}
	return nil
}

// Counters reports the source's counters.
func (n *Network) Counters() []source.Counter {
	c := func(name, help string, v uint64) source.Counter {
		return source.Counter{Name: name, Help: help, Value: float64(v)}
	}
	n.mu.Lock()
	st := n.dec.Stats()
	connected := 0.0
	if n.cur != nil {
		connected = 1
	}
	n.mu.Unlock()
	out := []source.Counter{
		{Name: "ingest_connected", Help: "1 while a device is connected to /pub for this channel.", Value: connected, Gauge: true},
		c("ingest_connections_total", "Device connections accepted on /pub.", n.stats.connections.Load()),
		c("ingest_unauthorized_total", "Requests to /pub refused for a missing or wrong token.", n.stats.unauthorized.Load()),
		c("ingest_busy_total", "Second publishers refused with 4009 (the first answered a ping).", n.stats.busy.Load()),
		c("ingest_replaced_total", "Publishers replaced after a ping went unanswered.", n.stats.replaced.Load()),
		c("ingest_no_pong_total", "Publishers dropped for not answering pings.", n.stats.noPong.Load()),
		c("ingest_messages_total", "Messages received from devices.", st.Messages),
		c("ingest_bytes_total", "Bytes of the messages received from devices.", st.Bytes),
		c("ingest_ignored_fields_total", "JSON fields skipped because they are not numbers.", st.IgnoredFields),
	}
	for _, r := range []string{"not_v1", "wrong_kind", "malformed", "bad_text", "bad_json", "too_big", "protocol"} {
		out = append(out, c("ingest_refused_"+r+"_total", "Device messages refused ("+r+"); the connection was closed.", n.refusedCount(r).Load()))
	}
	return out
}

func (n *Network) refusedCount(reason string) *atomic.Uint64 {
	v, _ := n.stats.refused.LoadOrStore(reason, new(atomic.Uint64))
	return v.(*atomic.Uint64)
}

// ServeHTTP takes one device connection for this channel (the caller
// routed /pub/<name> here and checked Host): token, boot and Origin, the
// upgrade, one publisher per channel, then the session until it ends.
func (n *Network) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !n.authorized(w, r) {
		return
	}
	boot := r.URL.Query().Get("boot")
	if err := CheckBoot(boot); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if o := r.Header.Get("Origin"); o != "" && o != "file://" && o != "null" {
		http.Error(w, "forbidden: /pub takes devices, not browser pages (Origin "+o+")", http.StatusForbidden)
		return
	}
	select {
	case <-n.ready:
	default:
		http.Error(w, "channel "+n.opts.Channel+" is starting: try again", http.StatusServiceUnavailable)
		return
	}
	pc, err := acceptPub(w, r)
	if err != nil {
		n.opts.Log.Info().Err(err).Str("device", r.RemoteAddr).Msg("device WebSocket handshake failed")
		return
	}
	s := &session{pc: pc, addr: r.RemoteAddr, boot: boot, since: time.Now(), done: make(chan struct{})}
	defer close(s.done)
	defer pc.cut() // before done: Run waits for the connection's end
	if !n.admitSession(s) {
		return
	}
	n.run(s)
}

// authorized checks the device's token: 401 without or with a wrong one
// (the relay refuses the subscribers' token with 403 before this). Tokens
// are never logged.
func (n *Network) authorized(w http.ResponseWriter, r *http.Request) bool {
	if n.opts.Token == "" {
		return true
	}
	got, _ := requestToken(r)
	if subtle.ConstantTimeCompare([]byte(got), []byte(n.opts.Token)) == 1 {
		return true
	}
	n.stats.unauthorized.Add(1)
	msg := "unauthorized: /pub/" + n.opts.Channel + " needs this device's token: send \"Authorization: Bearer TOKEN\" or ?token=TOKEN"
	if got != "" {
		msg = "unauthorized: wrong token for /pub/" + n.opts.Channel
	}
	n.logs.do("auth", func(suppressed int) {
		n.opts.Log.Warn().Str("device", r.RemoteAddr).Int("suppressed", suppressed).Msg(msg)
	})
	w.Header().Set("WWW-Authenticate", `Bearer realm="wsbridge"`)
	http.Error(w, msg, http.StatusUnauthorized)
	return false
}

// requestToken returns the token of the Authorization header or the
// token query parameter.
func requestToken(r *http.Request) (string, bool) {
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, tok, _ := strings.Cut(h, " ")
		return strings.TrimSpace(tok), strings.EqualFold(scheme, "Bearer")
	}
	return r.URL.Query().Get("token"), true
}

// admitSession makes s the channel's publisher, after probing the current
// one: alive, s is refused with 4009; silent, it is replaced.
func (n *Network) admitSession(s *session) bool {
	n.admit.Lock()
	defer n.admit.Unlock()
	n.mu.Lock()
	old := n.cur
	n.mu.Unlock()
	if old != nil {
		ctx, cancel := context.WithTimeout(context.Background(), n.opts.ProbeTimeout)
		err := old.pc.ping(ctx)
		cancel()
		if err == nil {
			n.stats.busy.Add(1)
			reason := fmt.Sprintf("busy: channel %s already has a publisher, connected from %s for %s; one publisher per channel",
				n.opts.Channel, hostOf(old.addr), time.Since(old.since).Round(time.Second))
			n.logs.do("busy", func(suppressed int) {
				n.opts.Log.Warn().Str("device", s.addr).Int("suppressed", suppressed).Msg("second publisher refused: " + reason)
			})
			s.pc.closeAndDrain(uint16(CloseBusy), reason)
			return false
		}
		n.stats.replaced.Add(1)
		n.opts.Log.Info().Str("old", old.addr).Str("device", s.addr).
			Msg("publisher did not answer a ping: replaced by the new connection")
	}
	n.mu.Lock()
	if n.ctx.Err() != nil {
		n.mu.Unlock()
		s.pc.closeAndDrain(uint16(websocket.StatusGoingAway), "serve is shutting down")
		return false
	}
	s.ctx, s.cancel = context.WithCancelCause(n.ctx)
	n.cur = s // from here the old session publishes nothing more
	n.mu.Unlock()
	if old != nil {
		old.cancel(errReplaced)
		old.pc.cut() // silent: a close frame would not be read
		<-old.done
	}
	return true
}

var errReplaced = errors.New("replaced by a newer connection")

func hostOf(addr string) string {
	if i := strings.LastIndexByte(addr, ':'); i > 0 {
		return strings.Trim(addr[:i], "[]")
	}
	return addr
}

// checkCommand refuses a command line that is not one line of text: it
// travels as one text message, which the device takes whole.
func checkCommand(line string) error {
	if strings.ContainsAny(line, "\r\n") || !utf8.ValidString(line) || strings.TrimSpace(line) == "" {
		return fmt.Errorf("command %q: want one non-empty line of text", clip([]byte(line), 40))
	}
	return nil
}
