package relay

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/coder/websocket"

	"github.com/wsbridge/wsbridge/internal/buildinfo"
	"github.com/wsbridge/wsbridge/internal/wsconn"
	"github.com/wsbridge/wsbridge/internal/wsproto"
)

// serveWS upgrades /ws/NAME (and /ws with one channel): the channel,
// query checks, Origin, the client limit, the handshake; then the client
// runs on goroutines of its own (client.run) until it ends.
func (s *Server) serveWS(w http.ResponseWriter, r *http.Request) {
	ch := s.pick(w, r)
	if ch == nil {
		return
	}
	q := r.URL.Query()
	format := q.Get("format")
	switch format {
	case "":
		format = FormatBinary
	case FormatBinary, FormatJSON, FormatCSV:
	default:
		http.Error(w, "bad format="+q.Get("format")+": want binary, json or csv", http.StatusBadRequest)
		return
	}
	res, err := parseResume(q)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	level, err := parseEnvelope(q, format)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if err := checkOrigin(r, s.opts.AllowOrigin); err != nil {
		s.stats.refusedOrigin.Add(1)
		s.opts.Log.Warn().Str("client", r.RemoteAddr).Str("origin", r.Header.Get("Origin")).Msg("WebSocket refused: foreign Origin")
		http.Error(w, err.Error(), http.StatusForbidden)
		return
	}
	if !s.acquire(w, r) {
		return
	}
	fl := wsconn.NewFlow()
	conn, err := websocket.Accept(wsconn.Lean(w), r, &websocket.AcceptOptions{InsecureSkipVerify: true, // checkOrigin decided above
		OnPongReceived: func(_ context.Context, p []byte) { fl.OnPong(p) }})
	if err != nil {
		<-s.slots
		s.opts.Log.Info().Err(err).Str("client", r.RemoteAddr).Msg("WebSocket handshake failed")
		return
	}
	c := s.newClient(ch, conn, r.RemoteAddr, format)
	c.cork, c.flow, c.level = wsconn.FromContext(r.Context()), fl, level
	if !s.register(c) {
		<-s.slots
		_ = conn.Close(websocket.StatusGoingAway, "server shutting down")
		return
	}
	st := ch.hub.subscribe(res, level)
	ch.planBackfill(&st, level)
	ev := c.log.Info().Str("format", format).Str("epoch", st.epoch).Uint32("start_seq", st.seq).Int("clients", len(s.slots))
	if res != nil {
		ev = ev.Uint32("since", res.since).Str("since_epoch", res.epoch)
	}
	if level > 0 {
		ev = ev.Uint32("envelope", level)
	}
	ev.Msg("client connected")
	hello := mustJSON(s.hello(c, st))
	// The client runs on goroutines of its own: this one returns, and
	// net/http's state for the request (and this goroutine's deep stack)
	// goes with it.
	go func() {
		defer func() { <-s.slots }()
		defer s.unregister(c)
		if level > 0 {
			defer ch.hub.envelopeClientGone()
		}
		c.run(st, hello)
	}()
}

// acquire takes a client slot or answers 503.
func (s *Server) acquire(w http.ResponseWriter, r *http.Request) bool {
	select {
	case s.slots <- struct{}{}:
		return true
	default:
	}
	s.stats.refusedFull.Add(1)
	s.opts.Log.Warn().Str("client", r.RemoteAddr).Int("max_clients", s.opts.MaxClients).Msg("WebSocket refused: --max-clients reached")
	w.Header().Set("Retry-After", "5")
	http.Error(w, "busy: this server already has its maximum of "+strconv.Itoa(s.opts.MaxClients)+
		" WebSocket clients (--max-clients); try again later", http.StatusServiceUnavailable)
	return false
}

func (s *Server) newClient(ch *Channel, conn *websocket.Conn, addr, format string) *client {
	return &client{srv: s, ch: ch, conn: conn, addr: addr, format: format, connected: time.Now(),
		log:       clientLog{&s.opts.Log, ch.name, addr},
		cmdDenied: s.commandPolicy(), direct: make(chan []byte, 16), wakec: make(chan struct{}, 1)}
}

// register adds c unless shutdown has begun.
func (s *Server) register(c *client) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ctx.Err() != nil {
		return false
	}
	s.clients[c] = struct{}{}
	s.wg.Add(1)
	c.ch.stats.accepted.Add(1)
	c.ch.connected.Add(1)
	return true
}

func (s *Server) unregister(c *client) {
	s.mu.Lock()
	delete(s.clients, c)
	s.mu.Unlock()
	c.ch.connected.Add(-1)
	s.wg.Done()
}

// commandPolicy is the error a command gets, or nil if commands are allowed.
func (s *Server) commandPolicy() *wsproto.Error {
	if !s.opts.AllowCommands {
		return &wsproto.Error{Type: wsproto.TypeError, Code: wsproto.ErrCommandsDisabled,
			Message: "commands are disabled on this server: start serve with --allow-commands"}
	}
	if s.opts.Token == "" && s.ln != nil && !isLoopback(s.ln.Addr()) {
		return &wsproto.Error{Type: wsproto.TypeError, Code: wsproto.ErrUnauthorized,
			Message: "commands need a token when serve listens beyond loopback: start serve with --token"}
	}
	return nil
}

func (s *Server) hello(c *client, st start) wsproto.Hello {
	sn := st.snap
	return wsproto.Hello{Type: wsproto.TypeHello, Protocol: wsproto.Version,
		Server: "wsbridge " + version(), Channel: sn.Channel, Epoch: sn.Epoch, Format: c.format, DeviceState: sn.State, Device: sn.Device,
		Rate: sn.Rate, Channels: sn.Channels, SampleType: sn.SampleType, Seq: sn.Next, StartSeq: st.seq, Envelope: c.level,
		History: sn.History, Commands: c.cmdDenied == nil}
}

func version() string { return buildinfo.Get().Version } // "dev" when unstamped
