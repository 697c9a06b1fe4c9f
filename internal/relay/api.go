package relay

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/wsbridge/wsbridge/internal/wsproto"
)

// ClientInfo describes one connected client in /api/channels/NAME.
type ClientInfo struct {
	Address    string  `json:"address"`
	Format     string  `json:"format"`
	Envelope   uint32  `json:"envelope,omitempty"` // ?envelope=N; absent for full rate
	Lag        uint64  `json:"lag"`                // ring entries not yet sent
	Messages   uint64  `json:"messages"`
	ConnectedS float64 `json:"connected_s"`
}

// Info is the /api/channels/NAME document (and /api/info's, with one
// channel): the channel's device, history, clients and counters.
type Info struct {
	Server       string             `json:"server"`
	Channel      string             `json:"channel"`
	Path         string             `json:"path"` // the channel's stream: /ws/NAME
	Epoch        wsproto.Epoch      `json:"epoch"`
	UptimeS      float64            `json:"uptime_s"`
	DeviceState  string             `json:"device_state"`
	DeviceReason string             `json:"device_reason,omitempty"`
	Device       *wsproto.Device    `json:"device"`
	Rate         uint32             `json:"rate"`
	Channels     int                `json:"channels"` // the device's channels (columns), not the server's
	SampleType   string             `json:"sample_type"`
	Seq          uint32             `json:"seq"`
	History      wsproto.History    `json:"history"`
	Clients      []ClientInfo       `json:"clients"`
	MaxClients   int                `json:"max_clients"`
	Commands     bool               `json:"commands"`
	Counters     map[string]float64 `json:"counters"` // the channel's metrics and the server's, without prefix or label
	Remote       *Remote            `json:"remote,omitempty"`
}

// Summary is one channel in /api/channels: Info without the client list.
type Summary struct {
	Name         string             `json:"name"`
	Path         string             `json:"path"`
	Epoch        wsproto.Epoch      `json:"epoch"`
	DeviceState  string             `json:"device_state"`
	DeviceReason string             `json:"device_reason,omitempty"`
	Device       *wsproto.Device    `json:"device"`
	Rate         uint32             `json:"rate"`
	Channels     int                `json:"channels"`
	SampleType   string             `json:"sample_type"`
	Seq          uint32             `json:"seq"`
	History      wsproto.History    `json:"history"`
	Clients      int                `json:"clients"`
	Counters     map[string]float64 `json:"counters"` // the channel's metrics, without prefix or label
	Remote       *Remote            `json:"remote,omitempty"`
}

// Remote describes a channel served here as a mirror of one elsewhere
// (a remote channel on the bus): where it comes from and whether its
// events are flowing.
type Remote struct {
	Origin     string `json:"origin"`
	Feed       string `json:"feed"` // "ok" or "down"
	FeedReason string `json:"feed_reason,omitempty"`
}

// remote describes a mirror channel, nil for others.
func (c *Channel) remote() *Remote {
	mirror, ok, reason := c.MirrorFeed()
	if !mirror {
		return nil
	}
	r := &Remote{Origin: c.origin, Feed: "ok", FeedReason: reason}
	if !ok {
		r.Feed = "down"
	}
	return r
}

// List is the /api/channels document.
type List struct {
	Server     string    `json:"server"`
	UptimeS    float64   `json:"uptime_s"`
	MaxClients int       `json:"max_clients"`
	Commands   bool      `json:"commands"`
	Channels   []Summary `json:"channels"`
}

// Info returns what /api/channels/NAME reports.
func (c *Channel) Info() Info {
	sn := c.hub.snapshot()
	s := c.srv
	in := Info{Server: "wsbridge " + version(), Channel: c.name, Path: "/ws/" + c.name, Epoch: sn.Epoch,
		UptimeS: time.Since(s.started).Seconds(), DeviceState: sn.State, DeviceReason: sn.Reason, Device: sn.Device,
		Rate: sn.Rate, Channels: sn.Channels, SampleType: sn.SampleType, Seq: sn.Next, History: sn.History,
		MaxClients: s.opts.MaxClients, Commands: s.commandPolicy() == nil, Clients: c.clients(), Counters: map[string]float64{},
		Remote: c.remote()}
	for _, k := range s.counters() {
		in.Counters[k.Name] = k.Value
	}
	for _, k := range c.counters() {
		in.Counters[k.Name] = k.Value
	}
	return in
}

// Summary returns the channel's entry in /api/channels.
func (c *Channel) Summary() Summary {
	sn := c.hub.snapshot()
	sum := Summary{Name: c.name, Path: "/ws/" + c.name, Epoch: sn.Epoch, DeviceState: sn.State, DeviceReason: sn.Reason,
		Device: sn.Device, Rate: sn.Rate, Channels: sn.Channels, SampleType: sn.SampleType, Seq: sn.Next,
		History: sn.History, Clients: int(c.connected.Load()), Counters: map[string]float64{}, Remote: c.remote()}
	for _, k := range c.counters() {
		sum.Counters[k.Name] = k.Value
	}
	return sum
}

// List returns what /api/channels reports.
func (s *Server) List() List {
	l := List{Server: "wsbridge " + version(), UptimeS: time.Since(s.started).Seconds(), MaxClients: s.opts.MaxClients,
		Commands: s.commandPolicy() == nil, Channels: []Summary{}}
	for _, c := range s.Channels() {
		l.Channels = append(l.Channels, c.Summary())
	}
	return l
}

// names lists the channels' names for error messages.
func (s *Server) names() string {
	var n []string
	for _, c := range s.Channels() {
		n = append(n, c.name)
	}
	if len(n) == 0 {
		return "none yet"
	}
	return strings.Join(n, ", ")
}

// pick finds the channel a request is for: /ws/NAME and
// /api/channels/NAME name it; /ws and /api/info mean the only channel.
// When there is none it answers the request itself and returns nil.
func (s *Server) pick(w http.ResponseWriter, r *http.Request) *Channel {
	name := r.PathValue("name")
	if name != "" {
		c, ok := s.Channel(name)
		if !ok {
			http.Error(w, fmt.Sprintf("no channel %q on this server; its channels: %s (GET /api/channels lists them)", name, s.names()), http.StatusNotFound)
			return nil
		}
		return c
	}
	chs := s.Channels()
	if len(chs) == 1 {
		return chs[0]
	}
	want := strings.TrimSuffix(r.URL.Path, "/") + "/NAME"
	if strings.HasPrefix(r.URL.Path, "/api/info") {
		want = "/api/channels/NAME"
	}
	msg := fmt.Sprintf("this server carries %d channels (%s): ask for one with %s (GET /api/channels lists them)", len(chs), s.names(), want)
	if len(chs) == 0 {
		msg = "this server carries no channel yet: configure a device (--port, --sim or --device)"
	}
	http.Error(w, msg, http.StatusConflict)
	return nil
}

func (s *Server) serveInfo(w http.ResponseWriter, r *http.Request) {
	if c := s.pick(w, r); c != nil {
		WriteJSON(w, http.StatusOK, c.Info())
	}
}

func (s *Server) serveList(w http.ResponseWriter, _ *http.Request) {
	WriteJSON(w, http.StatusOK, s.List())
}

// Health is the /healthz document. serve itself is healthy while it
// answers (HTTP 200), whether or not its devices are attached: DeviceState
// is "up" only while every channel's device is, and Down names the
// channels whose device is not.
type Health struct {
	Status      string                   `json:"status"` // "ok"
	DeviceState string                   `json:"device_state"`
	Down        []string                 `json:"down"`
	Channels    map[string]ChannelHealth `json:"channels"`
	Epoch       wsproto.Epoch            `json:"epoch,omitempty"` // with one channel: its epoch and next seq
	Seq         *uint32                  `json:"seq,omitempty"`
	Bus         any                      `json:"bus,omitempty"` // serve --bus: the bus's state (package bus)
}

// ChannelHealth is one channel in /healthz.
type ChannelHealth struct {
	DeviceState  string        `json:"device_state"`
	DeviceReason string        `json:"device_reason,omitempty"`
	Epoch        wsproto.Epoch `json:"epoch"`
	Seq          uint32        `json:"seq"`
}

// Health returns what /healthz reports.
func (s *Server) Health() Health {
	h := Health{Status: "ok", DeviceState: wsproto.StateUp, Down: []string{}, Channels: map[string]ChannelHealth{}}
	chs := s.Channels()
	for _, c := range chs {
		sn := c.hub.snapshot()
		h.Channels[c.name] = ChannelHealth{DeviceState: sn.State, DeviceReason: sn.Reason, Epoch: sn.Epoch, Seq: sn.Next}
		if sn.State != wsproto.StateUp {
			h.DeviceState = wsproto.StateDown
			h.Down = append(h.Down, c.name)
		}
		if len(chs) == 1 {
			h.Epoch, h.Seq = sn.Epoch, &sn.Next
		}
	}
	if len(chs) == 0 {
		h.DeviceState = wsproto.StateDown
	}
	h.Bus = s.busHealth()
	return h
}

func (s *Server) serveHealth(w http.ResponseWriter, _ *http.Request) {
	WriteJSON(w, http.StatusOK, s.Health())
}

// WriteJSON writes v as indented JSON with the status code.
func WriteJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}
