package relay

import (
	"cmp"
	"context"
	"net/http"
	"sort"
	"sync/atomic"
	"time"

	"github.com/wsbridge/wsbridge/internal/frame"
	"github.com/wsbridge/wsbridge/internal/source"
	"github.com/wsbridge/wsbridge/internal/wsproto"
)

// ChannelOptions configure one channel of the Server.
type ChannelOptions struct {
	// Name is the channel's name in /ws/NAME, hello, /api/channels and the
	// metrics' channel label: ^[a-z0-9][a-z0-9_-]{0,31}$.
	Name string
	// History and HistoryBytes override the Server's --history and
	// --history-bytes for this channel when positive.
	History      time.Duration
	HistoryBytes int64
	// Commander is the channel's device, where its clients' commands go;
	// nil answers them with device_down.
	Commander Commander
	// Counters reports the source's own counters (bytes read, noise,
	// opens, ...) for /metrics and /api/channels; nil for none.
	Counters func() []Counter
	// Ingest, if set, takes the device connections of /pub/NAME: a device
	// on the network that publishes into this channel (ingest.Network).
	// The Server checks Host and refuses the subscribers' token there (403)
	// before handing the request on; Ingest checks the device's own token.
	Ingest http.Handler
	// Mirror makes the channel a mirror of a channel served elsewhere (a
	// remote channel on the bus): it is fed by Apply with events its
	// origin classified, and by Feed, instead of by a source's packets.
	Mirror bool
	// Origin says where a mirror's channel comes from, for /api/channels
	// (e.g. "site lab1 on the bus").
	Origin string
	// Backfill, for a mirror, reads frames from..to of epoch from where
	// the origin's history is kept (the bus) for a client resuming from
	// before the mirror's ring, passing them to emit in order as frames,
	// device gaps and history gaps that account for from..to exactly.
	Backfill func(ctx context.Context, epoch wsproto.Epoch, from, to uint32, emit func(*source.Event) error) error
}

// Channel is one named stream of the Server: one device's history ring,
// its sequence numbers and epoch, device info and state, its clients,
// commander and counters. A source feeds it through Packet, Up and Down
// (it implements source.Publisher); each WebSocket client on /ws/NAME is a
// cursor into its ring.
//
// Concurrency: Packet, Up and Down are called by one producer at a time,
// in order, and never block on clients. Every other method is safe for
// concurrent use. A Channel lives as long as its Server.
type Channel struct {
	srv       *Server
	name      string
	hub       *hub
	stats     channelStats
	cmd       Commander
	ingest    http.Handler
	sourceCtr func() []Counter
	connected atomic.Int64 // clients on this channel now
	mirror    *mirror      // mirrors only (mirror.go)
	origin    string       // mirrors: where the channel comes from (ChannelOptions.Origin)
	backfill  func(ctx context.Context, epoch wsproto.Epoch, from, to uint32, emit func(*source.Event) error) error
	attached  attached // counters added after construction (attach.go)
}

var _ source.Publisher = (*Channel)(nil)

func newChannel(s *Server, o ChannelOptions) *Channel {
	c := &Channel{srv: s, name: o.Name, cmd: o.Commander, ingest: o.Ingest, sourceCtr: o.Counters, origin: o.Origin,
		backfill: o.Backfill}
	if o.Mirror {
		c.mirror = &mirror{}
	}
	log := s.opts.Log.With().Str("channel", o.Name).Logger()
	c.hub = newHub(o.Name, cmp.Or(o.History, s.opts.History), cmp.Or(o.HistoryBytes, s.opts.HistoryBytes), log, &c.stats)
	return c
}

// Name is the channel's name.
func (c *Channel) Name() string { return c.name }

// Epoch is the channel's current epoch.
func (c *Channel) Epoch() wsproto.Epoch { return c.hub.snapshot().Epoch }

// Restart says the device started over (a Wi-Fi board reconnected with
// a new boot id): the next data frame begins a new epoch, with a restart
// status giving reason, whatever its seq. Before the channel's first
// frame it does nothing (the first frame begins the count anyway).
func (c *Channel) Restart(reason string) {
	c.hub.mu.Lock()
	defer c.hub.mu.Unlock()
	c.hub.restartNext = reason
}

// Hold(true) makes Packet keep the writes it would make itself for
// caught-up clients (inline.go) until Flush: a source that has read
// several frames at once publishes them all, and each client gets them
// in one write rather than one write each. A source that holds must call
// Flush before it waits for more input; Hold(false) flushes too. Like
// Packet, called by the producer.
func (c *Channel) Hold(on bool) { c.hub.hold(on) }

// Flush writes what Packet held for caught-up clients (see Hold).
func (c *Channel) Flush() { c.hub.flush() }

// HistoryBytes is the cap on the channel's history (--history-bytes or
// the channel's own).
func (c *Channel) HistoryBytes() int64 { return c.hub.maxBytes }

// Packet publishes a decoded packet: data frames go into the history
// (the channel classifies their seqs: gaps, duplicates, late frames,
// restarts), info, log and reply packets become JSON messages. p is only
// read during the call. It never blocks on clients.
func (c *Channel) Packet(p *frame.Packet) {
	switch p.Type {
	case frame.TypeData:
		c.hub.publishFrame(p)
	case frame.TypeInfo:
		c.hub.setInfo(&p.Info)
	case frame.TypeLog:
		c.hub.publishMessage(kindText, wsproto.Log{Type: wsproto.TypeLog, Text: string(p.Text)})
	case frame.TypeReply:
		c.hub.publishMessage(kindText, wsproto.Reply{Type: wsproto.TypeReply, OK: p.Status == frame.ReplyOK, Text: string(p.Text)})
	}
}

// Up tells the channel's clients the device is (back) up.
func (c *Channel) Up(reason string) { c.hub.setState(wsproto.StateUp, reason) }

// Down tells the channel's clients the device is gone; they stay connected.
func (c *Channel) Down(reason string) { c.hub.setState(wsproto.StateDown, reason) }

// clients lists the channel's connected clients, by address.
func (c *Channel) clients() []ClientInfo {
	out := []ClientInfo{}
	c.srv.mu.Lock()
	for cl := range c.srv.clients {
		if cl.ch == c {
			out = append(out, ClientInfo{Address: cl.addr, Format: cl.format, Envelope: cl.level, Lag: cl.lag(),
				Messages: cl.sent.Load(), ConnectedS: time.Since(cl.connected).Seconds()})
		}
	}
	c.srv.mu.Unlock()
	sort.Slice(out, func(i, j int) bool { return out[i].Address < out[j].Address })
	return out
}
