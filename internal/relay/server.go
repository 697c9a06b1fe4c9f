package relay

import (
	"cmp"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wsbridge/wsbridge/internal/sentinel"
	"github.com/wsbridge/wsbridge/internal/wsconn"
)

// shutdownGrace bounds how long Serve waits for clients to acknowledge
// the close and for HTTP requests to finish.
const shutdownGrace = 5 * time.Second

// Server is the relay: a registry of named channels plus the HTTP and
// WebSocket endpoints. Create it with New, add channels with AddChannel
// (before or while serving) and feed each one as its source.Publisher;
// start it with Listen then Serve (or Run). Every method is safe for
// concurrent use; Listen and Serve are called once, in that order.
type Server struct {
	opts    Options
	stats   serverStats
	started time.Time
	http    *http.Server
	mux     *http.ServeMux // the routes; Handle adds to them
	ln      net.Listener
	url     string

	ctx    context.Context // cancelled at shutdown; clients derive from it
	cancel context.CancelFunc
	slots  chan struct{} // one per connected WebSocket client
	wg     sync.WaitGroup

	mu      sync.Mutex
	clients map[*client]struct{}
	stopped Stopped // what shutdown did; written under mu

	chMu     sync.RWMutex
	channels map[string]*Channel
	order    []*Channel // in the order added

	hosts atomic.Pointer[hostCheck] // set by Listen, from the address bound

	attached attached // counters and health added after construction (attach.go)
}

// New checks opts and builds a Server. Zero-valued durations and limits
// take the documented defaults.
func New(opts Options) (*Server, error) {
	applyDefaults(&opts)
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	s := &Server{opts: opts, started: time.Now(), slots: make(chan struct{}, opts.MaxClients),
		clients: map[*client]struct{}{}, channels: map[string]*Channel{}}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.http = &http.Server{
		Handler:           s.routes(),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       60 * time.Second,
		MaxHeaderBytes:    16 << 10,
		ErrorLog:          newHTTPErrorLog(opts.Log),
		ConnContext:       wsconn.WithConn,
	}
	return s, nil
}

func applyDefaults(o *Options) {
	d := DefaultOptions()
	o.Listen = cmp.Or(o.Listen, d.Listen)
	o.History = cmp.Or(o.History, d.History)
	o.HistoryBytes = cmp.Or(o.HistoryBytes, d.HistoryBytes)
	o.SlowClient = cmp.Or(o.SlowClient, d.SlowClient)
	o.PingInterval = cmp.Or(o.PingInterval, d.PingInterval)
	o.WriteTimeout = cmp.Or(o.WriteTimeout, d.WriteTimeout)
	o.MaxClients = cmp.Or(o.MaxClients, d.MaxClients)
}

// AddChannel adds a channel. It fails for a name that is not a valid
// channel name or is taken.
func (s *Server) AddChannel(o ChannelOptions) (*Channel, error) {
	if !ValidChannelName(o.Name) {
		return nil, optionsErr("channel name %q: %s", o.Name, channelNameRule)
	}
	if o.History < 0 || o.HistoryBytes != 0 && o.HistoryBytes < 1<<16 {
		return nil, optionsErr("channel %s: history must be positive and history-bytes at least 65536", o.Name)
	}
	s.chMu.Lock()
	defer s.chMu.Unlock()
	if _, dup := s.channels[o.Name]; dup {
		return nil, optionsErr("channel name %q is used twice: every device needs its own name", o.Name)
	}
	c := newChannel(s, o)
	s.channels[o.Name] = c
	s.order = append(s.order, c)
	return c, nil
}

// Channel returns the channel called name.
func (s *Server) Channel(name string) (*Channel, bool) {
	s.chMu.RLock()
	defer s.chMu.RUnlock()
	c, ok := s.channels[name]
	return c, ok
}

// Channels returns the channels in the order they were added.
func (s *Server) Channels() []*Channel {
	s.chMu.RLock()
	defer s.chMu.RUnlock()
	return append([]*Channel(nil), s.order...)
}

// Listen binds the listen address and returns the base URL
// (http://host:port or https://...). Call it once, before Serve.
func (s *Server) Listen() (string, error) {
	ln, err := net.Listen("tcp", s.opts.Listen)
	if err != nil {
		return "", sentinel.Errorf(ErrListen, "failed to listen on %s: %w", s.opts.Listen, err)
	}
	if s.opts.TLSCert != "" {
		cert, err := tls.LoadX509KeyPair(s.opts.TLSCert, s.opts.TLSKey)
		if err != nil {
			ln.Close()
			return "", sentinel.Errorf(ErrTLS, "failed to load --tls-cert %s / --tls-key %s: %w", s.opts.TLSCert, s.opts.TLSKey, err)
		}
		ln = tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12})
	}
	s.hosts.Store(newHostCheck(s.opts.AllowHost, isLoopback(ln.Addr())))
	s.ln = wsconn.Listener{Listener: ln}
	s.url = baseURL(ln.Addr(), s.opts.TLSCert != "")
	s.warnExposure(ln.Addr())
	return s.url, nil
}

// Probe binds the listen address and releases it, logging what Listen
// would warn about (a listener beyond loopback without a token): what
// `serve --check` uses. It returns Listen's errors (ErrListen, ErrTLS).
func (s *Server) Probe() error {
	if _, err := s.Listen(); err != nil {
		return err
	}
	s.opts.Log.Info().Str("listen", s.ln.Addr().String()).Msg("check: the listen address is free")
	return s.ln.Close()
}

// URL is the base URL after Listen.
func (s *Server) URL() string { return s.url }

// Run listens and serves until ctx is cancelled.
func (s *Server) Run(ctx context.Context) error {
	if _, err := s.Listen(); err != nil {
		return err
	}
	return s.Serve(ctx)
}

// Serve serves on the listener from Listen until ctx is cancelled, then
// shuts down: every WebSocket client gets close 1001 (going away), HTTP
// requests get shutdownGrace to finish. It returns nil after a clean
// shutdown.
func (s *Server) Serve(ctx context.Context) error {
	if s.ln == nil {
		return fmt.Errorf("relay: Serve before Listen: %w", ErrListen)
	}
	errc := make(chan error, 1)
	go func() { errc <- s.http.Serve(s.ln) }()
	select {
	case err := <-errc:
		s.cancel()
		return fmt.Errorf("failed to serve on %s: %w", s.opts.Listen, err)
	case <-ctx.Done():
	}
	s.shutdown()
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("failed to serve on %s: %w", s.opts.Listen, err)
	}
	return nil
}

// Stopped is what Serve's shutdown did to the WebSocket clients, for the
// line serve logs when it stops.
type Stopped struct {
	Clients int    // clients connected at shutdown: each sent close 1001
	CutOff  int    // of those, the ones that did not close within the grace period
	Unsent  uint64 // ring entries (frames, gaps, statuses) queued for them and never sent
}

// addUnsent counts ring entries a client had not been sent when it was
// closed at shutdown.
func (s *Server) addUnsent(n uint64) {
	s.mu.Lock()
	s.stopped.Unsent += n
	s.mu.Unlock()
}

// Stopped reports what the shutdown did; it is complete once Serve has
// returned.
func (s *Server) Stopped() Stopped {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stopped
}

// shutdown closes every client with 1001 and stops the HTTP server.
func (s *Server) shutdown() {
	s.mu.Lock() // no client registers after this
	s.cancel()
	s.stopped.Clients = len(s.clients) // each adds what it could not send (drain, addUnsent)
	s.mu.Unlock()
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(shutdownGrace):
		s.opts.Log.Warn().Msg("some WebSocket clients did not close in time: cutting them off")
		s.mu.Lock()
		for c := range s.clients {
			_ = c.conn.CloseNow()
			s.stopped.CutOff++
		}
		s.mu.Unlock()
		<-done
	}
	ctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	if err := s.http.Shutdown(ctx); err != nil {
		_ = s.http.Close()
	}
}
