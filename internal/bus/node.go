package bus

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/rs/zerolog"

	"github.com/wsbridge/wsbridge/internal/relay"
	"github.com/wsbridge/wsbridge/internal/source"
	"github.com/wsbridge/wsbridge/internal/wsproto"
)

// NodeOptions configure a Node.
type NodeOptions struct {
	Log zerolog.Logger
	// Poll is how often the bus is asked which channels it carries (new
	// remote channels appear within it). Default 2 s.
	Poll time.Duration
	// Drain bounds how long Close waits for the publishers to take what
	// the rings still hold. Default 2 s.
	Drain time.Duration
}

// Node is serve's part of the bus: it publishes every local channel of a
// relay.Server, serves every other channel on the bus as a mirror channel
// of the same name (one Follower each, whatever the number of clients),
// carries commands between them (NATS request/reply on <subject>.cmd),
// and reports the bus in /healthz (under "bus") and /metrics.
//
// Attach returns at once, whether the bus is reachable or not: the local
// channels are served meanwhile and published once it is. Close stops
// it; it is idempotent and must be called by whoever called Attach.
type Node struct {
	c    *Conn
	srv  *relay.Server
	o    NodeOptions
	log  zerolog.Logger
	ctx  context.Context
	stop context.CancelFunc
	wg   sync.WaitGroup

	mu      sync.Mutex
	pubs    map[string]*Publisher
	cmdSubs []*nats.Subscription
	follows map[string]*Follower
	warned  map[string]bool // conflicts logged once
	checked map[string]bool // local channels whose stream was looked at
	listErr string
	closed  bool
}

// Attach connects to the bus described by cfg and runs the node until
// Close. Only what can never work is an error (bad configuration,
// refused credentials, an untrusted certificate).
func Attach(cfg Config, srv *relay.Server, o NodeOptions) (*Node, error) {
	if o.Poll <= 0 {
		o.Poll = 2 * time.Second
	}
	if o.Drain <= 0 {
		o.Drain = 2 * time.Second
	}
	log := o.Log.With().Str("part", "bus").Logger()
	c, err := Dial(cfg, log)
	if err != nil {
		return nil, err
	}
	ctx, stop := context.WithCancel(context.Background())
	n := &Node{c: c, srv: srv, o: o, log: log, ctx: ctx, stop: stop,
		pubs: map[string]*Publisher{}, follows: map[string]*Follower{}, warned: map[string]bool{}, checked: map[string]bool{}}
	srv.AttachCounters(c.Counters)
	srv.AttachBusHealth(func() any { return n.Health() })
	for _, m := range cfg.MQTT {
		if err := n.addMQTT(m); err != nil {
			stop()
			c.Close()
			return nil, err
		}
	}
	n.wg.Go(n.loop)
	return n, nil
}

// addMQTT makes a board that publishes MQTT to the bus a local channel
// (published like any other).
func (n *Node) addMQTT(m MQTTDevice) error {
	src, err := n.c.NewMQTTSource(MQTTOptions{Channel: m.Channel, Topic: m.Topic, Input: m.Input, Rate: m.Rate,
		Silence: m.Silence, Log: n.log.With().Str("channel", m.Channel).Logger()})
	if err != nil {
		return err
	}
	ch, err := n.srv.AddChannel(relay.ChannelOptions{Name: m.Channel, Commander: src, Counters: src.Counters})
	if err != nil {
		return fmt.Errorf("bus.mqtt channel %s: %w", m.Channel, err)
	}
	ch.Down("no MQTT message on " + m.Topic + " yet")
	n.log.Info().Str("channel", m.Channel).Str("topic", m.Topic).Str("subject", src.Subject()).Msg("bus: an MQTT board's channel")
	n.wg.Go(func() { _ = src.Run(n.ctx, ch) })
	return nil
}

// Conn is the node's connection (for tests and tools).
func (n *Node) Conn() *Conn { return n.c }

// loop looks for new local and remote channels every Poll, and at once
// after the connection comes back.
func (n *Node) loop() {
	t := time.NewTicker(n.o.Poll)
	defer t.Stop()
	// A stream created anywhere on the bus is announced by JetStream: scan
	// at once rather than at the next poll (which stays, for servers
	// whose advisories do not reach this account).
	created := make(chan struct{}, 1)
	if sub, err := n.c.nc.Subscribe("$JS.EVENT.ADVISORY.STREAM.CREATED.>", func(*nats.Msg) {
		select {
		case created <- struct{}{}:
		default:
		}
	}); err == nil {
		defer func() { _ = sub.Unsubscribe() }()
	}
	for {
		n.scan()
		_, _, _, changed := n.c.State()
		select {
		case <-n.ctx.Done():
			return
		case <-t.C:
		case <-changed:
		case <-created:
		}
	}
}

// scan publishes local channels not yet published and mirrors remote
// channels not yet mirrored.
func (n *Node) scan() {
	local := map[string]*relay.Channel{}
	for _, ch := range n.srv.Channels() {
		if !ch.IsMirror() {
			local[ch.Name()] = ch
			n.publish(ch)
		}
	}
	if up, _, _, _ := n.c.State(); !up {
		return
	}
	ctx, cancel := context.WithTimeout(n.ctx, n.c.cfg.AckTimeout)
	defer cancel()
	names, err := n.c.streamNames(ctx)
	if err != nil {
		n.listFailed(err)
		return
	}
	for _, stream := range names {
		name, ok := n.c.layout.channelOf(stream)
		n.mu.Lock()
		known := !ok || n.follows[name] != nil || n.warned[name] || n.checked[name] || n.closed
		n.mu.Unlock()
		if known {
			continue
		}
		info, ok, err := n.c.channel(ctx, stream) // a new one: once
		if err != nil {
			n.listFailed(err)
			return
		}
		n.mu.Lock()
		switch {
		case !ok:
		case local[info.Name] != nil:
			n.checked[info.Name] = true
			if info.Site != n.c.layout.Site && !n.warned[info.Name] {
				n.warned[info.Name] = true
				n.log.Error().Str("channel", info.Name).Str("other_site", info.Site).
					Msg("bus: a channel of this name comes from another site: this serve's channel is not published (rename one of them)")
			}
		case n.follows[info.Name] == nil && !n.closed:
			n.mirror(info)
		}
		n.mu.Unlock()
	}
	n.mu.Lock()
	n.listErr = ""
	n.mu.Unlock()
}

// listFailed logs a failed look at the bus's channels once per error.
func (n *Node) listFailed(err error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.listErr != err.Error() && n.ctx.Err() == nil {
		n.log.Warn().Err(err).Msg("bus: cannot list the channels on the bus (retrying)")
	}
	n.listErr = err.Error()
}

// publish starts the publisher and the command service of local channel ch.
func (n *Node) publish(ch *relay.Channel) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.pubs[ch.Name()] != nil || n.closed {
		return
	}
	p, err := n.c.NewPublisher(ch.Name(), ch, n.c.Settings(time.Duration(ch.History()), ch.HistoryBytes()))
	if err != nil {
		n.log.Error().Err(err).Str("channel", ch.Name()).Msg("bus: channel not published")
		n.pubs[ch.Name()] = &Publisher{}
		return
	}
	n.pubs[ch.Name()] = p
	ch.AttachCounters(p.Counters)
	n.wg.Go(func() { _ = p.Run(n.ctx) })
	n.wg.Go(func() { n.alive(p.subject + ".alive") })
	sub, err := n.c.nc.Subscribe(p.subject+".cmd", func(m *nats.Msg) { _ = m.Respond([]byte(n.command(ch, string(m.Data)))) })
	if err != nil {
		n.log.Warn().Err(err).Str("channel", ch.Name()).Msg("bus: commands from other nodes will not reach this channel")
		return
	}
	n.cmdSubs = append(n.cmdSubs, sub)
}

// aliveMissed is how many of its origin's alive intervals a mirror waits
// for before telling its clients that the origin is gone.
const aliveMissed = 3

// alive says on subject, every Config.Alive until the node stops, that
// this origin is alive; the message is the interval ("2s"), so a mirror
// waits for what this origin promises whatever its own setting.
func (n *Node) alive(subject string) {
	every := n.c.cfg.Alive
	msg := []byte(every.String())
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		_ = n.c.nc.Publish(subject, msg) // lost while disconnected: that is the point
		select {
		case <-n.ctx.Done():
			return
		case <-t.C:
		}
	}
}

// command runs a command line that a client of a mirror elsewhere sent.
func (n *Node) command(ch *relay.Channel, line string) string {
	if !n.srv.AllowsCommands() {
		return "err commands are off at the channel's origin (serve --allow-commands there)"
	}
	if err := ch.Command(line); err != nil {
		return "err " + err.Error()
	}
	n.log.Info().Str("channel", ch.Name()).Str("line", line).Msg("bus: command from another node forwarded to the device")
	return "ok"
}

// mirror adds a mirror channel for a remote channel and its follower.
// n.mu is held.
func (n *Node) mirror(info ChannelInfo) {
	rc := &remoteCommander{c: n.c, subject: info.Subject + ".cmd", name: info.Name}
	name := info.Name
	ch, err := n.srv.AddChannel(relay.ChannelOptions{Name: name, Mirror: true, Commander: rc,
		Origin: fmt.Sprintf("site %s on the bus (stream %s)", info.Site, info.Stream),
		Backfill: func(ctx context.Context, epoch wsproto.Epoch, from, to uint32, emit func(*Event) error) error {
			return n.c.Replay(ctx, name, epoch, from, to, emit)
		}})
	if err != nil {
		if !n.warned[info.Name] {
			n.warned[info.Name] = true
			n.log.Error().Err(err).Str("channel", info.Name).Msg("bus: remote channel not served")
		}
		return
	}
	fd := &feed{ch: ch, originOK: true}
	f, err := n.c.NewFollower(info.Name, Start{Since: time.Now().Add(-time.Duration(ch.History()))}, fd)
	if err != nil {
		n.log.Error().Err(err).Str("channel", info.Name).Msg("bus: remote channel not followed")
		return
	}
	n.follows[info.Name] = f
	ch.AttachCounters(f.Counters)
	n.log.Info().Str("channel", info.Name).Str("site", info.Site).Msg("bus: serving a remote channel")
	n.wg.Go(func() { _ = f.Run(n.ctx) })
	n.wg.Go(func() { n.watchOrigin(info, fd) })
}

// watchOrigin tells a mirror's clients when its origin stops saying it
// is alive, and when it comes back.
func (n *Node) watchOrigin(info ChannelInfo, fd *feed) {
	heard := make(chan time.Duration, 1)
	sub, err := n.c.nc.Subscribe(info.Subject+".alive", func(m *nats.Msg) {
		every, err := time.ParseDuration(string(m.Data))
		if err != nil || every <= 0 {
			every = n.c.cfg.Alive // an origin from before the interval was sent
		}
		select {
		case heard <- every:
		default:
		}
	})
	if err != nil {
		return
	}
	defer func() { _ = sub.Unsubscribe() }()
	limit := aliveMissed * n.c.cfg.Alive
	t := time.NewTimer(limit)
	defer t.Stop()
	for {
		select {
		case <-n.ctx.Done():
			return
		case every := <-heard:
			fd.origin(true, "")
			limit = aliveMissed * every
			t.Reset(limit)
		case <-t.C:
			if up, _, _, _ := n.c.State(); up { // without the bus the follower says so already
				fd.origin(false, fmt.Sprintf("no sign of the serve of site %s for %v (stopped without a word, or its site is cut off)", info.Site, limit))
			}
			t.Reset(limit)
		}
	}
}

// feed is the Replica a mirror's follower feeds: events pass to the
// channel; the channel's feed state is the follower's and the origin's
// liveness together.
type feed struct {
	ch                   *relay.Channel
	mu                   sync.Mutex
	busOK, originOK      bool
	busReason, originWhy string
	lastOK               bool
	lastReason           string
	started              bool
}

func (f *feed) Apply(ev *Event) { f.ch.Apply(ev) }

// Feed is the follower's report.
func (f *feed) Feed(ok bool, reason string) {
	f.mu.Lock()
	f.busOK, f.busReason = ok, reason
	f.tellLocked()
	f.mu.Unlock()
}

// origin is the liveness watch's report.
func (f *feed) origin(ok bool, why string) {
	f.mu.Lock()
	f.originOK, f.originWhy = ok, why
	f.tellLocked()
	f.mu.Unlock()
}

func (f *feed) tellLocked() {
	ok, reason := f.busOK && f.originOK, f.busReason
	if f.busOK && !f.originOK {
		reason = f.originWhy
	}
	if f.started && ok == f.lastOK && reason == f.lastReason {
		return
	}
	f.started, f.lastOK, f.lastReason = true, ok, reason
	f.ch.Feed(ok, reason)
}

// remoteCommander sends a mirror's commands to the channel's origin.
type remoteCommander struct {
	c       *Conn
	subject string
	name    string
}

func (r *remoteCommander) Command(line string) error {
	m, err := r.c.nc.Request(r.subject, []byte(line), 3*time.Second)
	if err != nil {
		if errors.Is(err, nats.ErrNoResponders) || errors.Is(err, nats.ErrTimeout) {
			return fmt.Errorf("%w: the serve that publishes channel %s does not answer over the bus", source.ErrDown, r.name)
		}
		return fmt.Errorf("failed to send the command over the bus: %w", err)
	}
	if reply := string(m.Data); reply != "ok" {
		return errors.New(strings.TrimPrefix(reply, "err "))
	}
	return nil
}

// NodeHealth is the bus's part of /healthz.
type NodeHealth struct {
	State      string            `json:"state"` // up or down: the connection to NATS
	Reason     string            `json:"reason"`
	Since      time.Time         `json:"since"`
	Site       string            `json:"site"`
	Publishing map[string]string `json:"publishing"` // local channel: "ok" or why not
	Following  map[string]string `json:"following"`  // remote channel: "ok" or why not
}

// Health reports the bus's state.
func (n *Node) Health() NodeHealth {
	up, reason, since, _ := n.c.State()
	h := NodeHealth{State: "down", Reason: reason, Since: since, Site: n.c.layout.Site,
		Publishing: map[string]string{}, Following: map[string]string{}}
	if up {
		h.State = "up"
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	for name, p := range n.pubs {
		if p.c == nil {
			h.Publishing[name] = "not published: bad channel name"
			continue
		}
		h.Publishing[name] = okOr(p.State())
	}
	for name, f := range n.follows {
		h.Following[name] = okOr(f.State())
	}
	return h
}

func okOr(ok bool, reason string) string {
	if ok {
		return "ok"
	}
	return reason
}

// Close stops the node: it waits up to NodeOptions.Drain for the
// publishers to take what the rings hold, stops every publisher and
// follower, and closes the connection. It logs what was left unpublished.
func (n *Node) Close() {
	n.mu.Lock()
	if n.closed {
		n.mu.Unlock()
		return
	}
	n.closed = true
	pubs := make([]*Publisher, 0, len(n.pubs))
	for _, p := range n.pubs {
		if p.c != nil {
			pubs = append(pubs, p)
		}
	}
	n.mu.Unlock()
	// Tell the mirrors elsewhere that this origin is going: the last event
	// each channel publishes (its local clients are being closed anyway).
	for _, ch := range n.srv.Channels() {
		if !ch.IsMirror() {
			ch.Down("the serve publishing this channel stopped")
		}
	}
	deadline := time.Now().Add(n.o.Drain)
	var behind []string
	for _, p := range pubs {
		for !p.caughtUp() && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond) // bounded by Drain
		}
		if !p.caughtUp() {
			behind = append(behind, p.ch)
		}
	}
	n.stop()
	n.wg.Wait()
	if len(behind) > 0 {
		n.log.Warn().Strs("channels", behind).Msg("bus: stopped with events not yet on the bus (the bus was down or slow): they end with this process")
	} else if len(pubs) > 0 {
		n.log.Info().Int("channels", len(pubs)).Msg("bus: every channel's events are on the bus")
	}
	for _, s := range n.cmdSubs {
		_ = s.Unsubscribe()
	}
	n.c.Close()
}
