package bus

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"

	"github.com/wsbridge/wsbridge/internal/source"
)

// Conn is one connection to the bus, shared by every publisher and
// follower of a serve. It never gives up: an unreachable bus at start or
// a lost one later is retried forever in the background, while State
// reports it down with the reason. Its methods are safe for concurrent
// use; Close is idempotent and must be called by whoever called Dial.
type Conn struct {
	cfg    Config
	layout Layout
	log    zerolog.Logger
	nc     *nats.Conn
	js     jetstream.JetStream

	mu      sync.Mutex
	up      bool
	reason  string
	since   time.Time
	changed chan struct{} // closed and replaced on every change of state
	perm    error         // the newest permission violation
	permAt  time.Time

	disconnects, reconnects, slowConsumers, asyncErrors, permErrors atomic.Uint64
}

// Dial connects to the bus. It returns at once whether the servers are
// reachable or not; only what can never work (a configuration error,
// refused credentials, an untrusted certificate) is an error.
func Dial(cfg Config, log zerolog.Logger) (*Conn, error) {
	cfg.Defaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	c := &Conn{cfg: cfg, layout: cfg.Layout(), log: log, changed: make(chan struct{}),
		reason: "connecting to " + strings.Join(cfg.URL, ","), since: time.Now()}
	opts, err := c.options()
	if err != nil {
		return nil, err
	}
	url := strings.Join(cfg.URL, ",")
	nc, err := nats.Connect(url, opts...)
	if err != nil {
		if never(err) {
			return nil, fmt.Errorf("failed to connect to %s: %w", url, err)
		}
		// Unreachable now: keep trying in the background, serve the local channels meanwhile.
		c.setState(false, fmt.Sprintf("unreachable (%v); retrying", err))
		nc, err = nats.Connect(url, append(opts, nats.RetryOnFailedConnect(true))...)
		if err != nil {
			return nil, fmt.Errorf("failed to connect to %s: %w", url, err)
		}
	}
	c.nc = nc
	if nc.IsConnected() {
		c.setState(true, "connected to "+nc.ConnectedUrlRedacted())
	}
	jsOpts := []jetstream.JetStreamOpt{
		// Each publisher bounds its own in-flight publishes (Config.Inflight):
		// the shared limit must never stall one channel for another.
		jetstream.WithPublishAsyncMaxPending(1 << 20),
		jetstream.WithPublishAsyncTimeout(cfg.AckTimeout),
	}
	if cfg.Domain != "" {
		c.js, err = jetstream.NewWithDomain(nc, cfg.Domain, jsOpts...)
	} else {
		c.js, err = jetstream.New(nc, jsOpts...)
	}
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("failed to open JetStream: %w", err)
	}
	return c, nil
}

// connectTimeout bounds a connection attempt to a NATS server, through
// nats.go's dialer or the raw one (dial_linux.go).
const connectTimeout = 2 * time.Second

func (c *Conn) options() ([]nats.Option, error) {
	opts := []nats.Option{
		nats.Name("wsbridge " + c.cfg.Site),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(250 * time.Millisecond),
		nats.ReconnectJitter(250*time.Millisecond, time.Second),
		// Never buffer publishes while disconnected: the channel's ring is
		// the buffer, and the publisher resends from its last ack.
		nats.ReconnectBufSize(-1),
		nats.Timeout(connectTimeout),
		nats.PingInterval(5 * time.Second), // a silent peer is noticed in ~15 s, not the default 4 min
		nats.MaxPingsOutstanding(3),
		nats.ConnectHandler(func(nc *nats.Conn) { c.setState(true, "connected to "+nc.ConnectedUrlRedacted()) }),
		nats.ReconnectHandler(func(nc *nats.Conn) {
			c.reconnects.Add(1)
			c.setState(true, "reconnected to "+nc.ConnectedUrlRedacted())
		}),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			c.disconnects.Add(1)
			reason := "disconnected"
			if err != nil {
				reason = "disconnected: " + err.Error()
			}
			c.setState(false, reason)
		}),
		nats.ClosedHandler(func(*nats.Conn) { c.setState(false, "connection closed") }),
		nats.ErrorHandler(c.asyncError),
	}
	if d := newRawDialer(connectTimeout); d != nil { // nats.go leaves a custom dialer's timeout to it
		opts = append(opts, nats.SetCustomDialer(d))
	}
	if c.cfg.Creds != "" {
		opts = append(opts, nats.UserCredentials(c.cfg.Creds))
	}
	if c.cfg.NKey != "" {
		o, err := nats.NkeyOptionFromSeed(c.cfg.NKey)
		if err != nil {
			return nil, fieldErr("nkey", "failed to read %s: %v", c.cfg.NKey, err)
		}
		opts = append(opts, o)
	}
	if c.cfg.TLS.CA != "" {
		opts = append(opts, nats.RootCAs(c.cfg.TLS.CA))
	}
	if c.cfg.TLS.Cert != "" {
		opts = append(opts, nats.ClientCert(c.cfg.TLS.Cert, c.cfg.TLS.Key))
	}
	return opts, nil
}

// never reports a connection error that retrying cannot heal.
func never(err error) bool {
	var ua x509.UnknownAuthorityError
	var hn x509.HostnameError
	var ci x509.CertificateInvalidError
	return errors.Is(err, nats.ErrAuthorization) || errors.Is(err, nats.ErrAuthExpired) ||
		errors.Is(err, nats.ErrAuthRevoked) || errors.Is(err, nats.ErrAccountAuthExpired) ||
		errors.As(err, &ua) || errors.As(err, &hn) || errors.As(err, &ci) ||
		strings.Contains(err.Error(), "certificate")
}

func (c *Conn) asyncError(_ *nats.Conn, sub *nats.Subscription, err error) {
	switch {
	case errors.Is(err, nats.ErrSlowConsumer):
		n := c.slowConsumers.Add(1)
		subj := ""
		if sub != nil {
			subj = sub.Subject
		}
		if n&(n-1) == 0 { // 1, 2, 4, 8, ...: visible without flooding the log
			c.log.Warn().Str("subject", subj).Uint64("events", n).Msg("bus: slow consumer: the NATS client dropped messages (the follower resumes from its last stream sequence)")
		}
	case errors.Is(err, nats.ErrPermissionViolation):
		c.permErrors.Add(1)
		c.mu.Lock()
		c.perm, c.permAt = err, time.Now()
		c.mu.Unlock()
		c.log.Error().Err(err).Msg("bus: the NATS server refused an operation: check the account's permissions")
	default:
		c.asyncErrors.Add(1)
		c.log.Warn().Err(err).Msg("bus: asynchronous NATS error")
	}
}

// explain turns a failed request into ErrPermission when the server
// reported a permission violation since start (the request itself only
// times out), and JetStream's "not enabled" into ErrNoJetStream.
func (c *Conn) explain(err error, start time.Time) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, jetstream.ErrJetStreamNotEnabled) || errors.Is(err, jetstream.ErrJetStreamNotEnabledForAccount) {
		hint := "enable it in the server's configuration (jetstream {}), or, at a leaf node without JetStream, set bus.domain to the hub's JetStream domain"
		if c.cfg.Domain != "" {
			hint = fmt.Sprintf("check that a server in JetStream domain %q is reachable (bus.domain)", c.cfg.Domain)
		}
		return fmt.Errorf("%w (%s): %w", ErrNoJetStream, hint, err)
	}
	if errors.Is(err, nats.ErrNoResponders) {
		if c.cfg.Domain == "" { // every JetStream server answers the API: nobody did
			return fmt.Errorf("%w (enable it in the server's configuration (jetstream {}), or, at a leaf node without JetStream, set bus.domain to the hub's JetStream domain): %w", ErrNoJetStream, err)
		}
		return fmt.Errorf("no JetStream server of domain %q answered (is the leaf node's link to its hub down?): %w", c.cfg.Domain, err)
	}
	var apiErr *jetstream.APIError
	if errors.As(err, &apiErr) && apiErr.Code == 403 {
		return fmt.Errorf("%w: %w", ErrPermission, err)
	}
	c.mu.Lock()
	perm, at := c.perm, c.permAt
	c.mu.Unlock()
	if perm != nil && !at.Before(start) {
		return fmt.Errorf("%w: %w", ErrPermission, perm)
	}
	return err
}

func (c *Conn) setState(up bool, reason string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if up != c.up {
		c.since = time.Now()
		ev := c.log.Info()
		if !up {
			ev = c.log.Warn()
		}
		ev.Bool("up", up).Str("reason", reason).Msg("bus: connection state")
	}
	c.up, c.reason = up, reason
	close(c.changed)
	c.changed = make(chan struct{})
}

// State reports whether the connection is up, why (or why not), since
// when, and a channel closed at the next change.
func (c *Conn) State() (up bool, reason string, since time.Time, changed <-chan struct{}) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.up, c.reason, c.since, c.changed
}

// WaitUp waits until the connection is up or ctx ends.
func (c *Conn) WaitUp(ctx context.Context) error {
	for {
		up, _, _, changed := c.State()
		if up {
			return nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// Layout is the naming of channels on this bus.
func (c *Conn) Layout() Layout { return c.layout }

// Config is the configuration in effect (with defaults).
func (c *Conn) Config() Config { return c.cfg }

// Counters reports the connection's counters for /metrics.
func (c *Conn) Counters() []source.Counter {
	up, _, _, _ := c.State()
	g := 0.0
	if up {
		g = 1
	}
	return []source.Counter{
		{Name: "bus_connected", Help: "1 while the NATS connection is up", Value: g, Gauge: true},
		{Name: "bus_disconnects_total", Help: "NATS connections lost", Value: float64(c.disconnects.Load())},
		{Name: "bus_reconnects_total", Help: "NATS connections re-established", Value: float64(c.reconnects.Load())},
		{Name: "bus_slow_consumer_total", Help: "slow-consumer events: the NATS client dropped messages for a subscription", Value: float64(c.slowConsumers.Load())},
		{Name: "bus_permission_errors_total", Help: "operations the NATS server refused for lack of permission", Value: float64(c.permErrors.Load())},
		{Name: "bus_async_errors_total", Help: "other asynchronous NATS errors", Value: float64(c.asyncErrors.Load())},
	}
}

// Close closes the connection. Safe to call more than once.
func (c *Conn) Close() {
	if c.nc != nil {
		c.nc.Close()
	}
}
