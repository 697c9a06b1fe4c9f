package relay

import (
	"bufio"
	"encoding/json"
	"net/http"
	"sort"
	"strconv"
	"time"

	"github.com/wsbridge/wsbridge/internal/wsproto"
)

// counters lists the relay's metrics followed by the device side's.
func (s *Server) counters() []Counter {
	st := &s.stats
	sn := s.hub.snapshot()
	up := 0.0
	if sn.State == wsproto.StateUp {
		up = 1
	}
	c := func(name, help string, v uint64) Counter { return Counter{Name: name, Help: help, Value: float64(v)} }
	g := func(name, help string, v float64) Counter {
		return Counter{Name: name, Help: help, Value: v, Gauge: true}
	}
	out := []Counter{
		g("device_up", "1 while the device is delivering, 0 while it is gone.", up),
		g("uptime_seconds", "Seconds since serve started.", time.Since(s.started).Seconds()),
		c("frames_received_total", "Data frames received from the device and published.", st.frames.Load()),
		c("frame_bytes_received_total", "Bytes of the data frames published (v1 packets).", st.frameBytes.Load()),
		c("frames_duplicate_total", "Data frames dropped because their seq was published already.", st.duplicates.Load()),
		c("frames_late_total", "Data frames dropped because they arrived after their gap was reported (reordered).", st.late.Load()),
		c("device_gaps_total", "Sequence gaps between the device and serve.", st.deviceGaps.Load()),
		c("device_gap_frames_total", "Frames lost between the device and serve.", st.deviceGapFrames.Load()),
		c("device_restarts_total", "Times the device restarted its sequence numbers.", st.restarts.Load()),
		g("history_frames", "Data frames held in the history ring.", float64(sn.Frames)),
		g("history_bytes", "Memory the history holds as --history-bytes counts it: entries, packets, cached JSON and CSV renderings.", float64(sn.RingBytes)),
		g("clients", "WebSocket clients connected.", float64(len(s.slots))),
		c("clients_accepted_total", "WebSocket clients accepted.", st.accepted.Load()),
		c("clients_refused_full_total", "WebSocket clients refused with 503 (--max-clients).", st.refusedFull.Load()),
		c("requests_unauthorized_total", "Requests refused with 401 (missing or wrong token).", st.refusedAuth.Load()),
		c("clients_refused_origin_total", "WebSocket clients refused with 403 (foreign Origin).", st.refusedOrigin.Load()),
		c("requests_refused_host_total", "Requests refused with 421 (Host not a name of this server: DNS rebinding).", st.refusedHost.Load()),
		c("messages_sent_total", "WebSocket messages sent to clients.", st.messagesSent.Load()),
		c("bytes_sent_total", "Payload bytes of the WebSocket messages sent.", st.bytesSent.Load()),
		c("slow_client_skips_total", "Times a slow client was skipped ahead (--slow-client skip).", st.slowSkips.Load()),
		c("slow_client_closes_total", "Slow clients closed with 1008 (--slow-client close).", st.slowCloses.Load()),
		c("client_dropped_frames_total", "Frames slow clients never received because they fell behind the history.", st.droppedFrames.Load()),
		c("client_write_timeouts_total", "Clients dropped because a write did not finish within --write-timeout.", st.writeTimeouts.Load()),
		c("client_ping_timeouts_total", "Clients dropped because they did not answer a ping.", st.pingTimeouts.Load()),
		c("client_messages_total", "Messages received from clients.", st.clientMessages.Load()),
		c("client_errors_total", "Client messages answered with an error message.", st.clientErrors.Load()),
		c("client_oversize_total", "Clients closed with 1009 for a message over the limit.", st.oversize.Load()),
		c("commands_total", "Commands forwarded to the device.", st.commands.Load()),
	}
	if s.opts.Counters != nil {
		out = append(out, s.opts.Counters()...)
	}
	return out
}

// serveMetrics writes the Prometheus text exposition format (0.0.4).
func (s *Server) serveMetrics(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	bw := bufio.NewWriter(w)
	for _, c := range s.counters() {
		name := "wsbridge_" + c.Name
		typ := "counter"
		if c.Gauge {
			typ = "gauge"
		}
		bw.WriteString("# HELP " + name + " " + c.Help + "\n# TYPE " + name + " " + typ + "\n")
		bw.WriteString(name + " " + strconv.FormatFloat(c.Value, 'g', -1, 64) + "\n")
	}
	bw.Flush()
}

// ClientInfo describes one connected client in /api/info.
type ClientInfo struct {
	Address    string  `json:"address"`
	Format     string  `json:"format"`
	Lag        uint64  `json:"lag"` // ring entries not yet sent
	Messages   uint64  `json:"messages"`
	ConnectedS float64 `json:"connected_s"`
}

// Info is the /api/info document.
type Info struct {
	Server       string             `json:"server"`
	Channel      string             `json:"channel"`
	Epoch        wsproto.Epoch      `json:"epoch"`
	UptimeS      float64            `json:"uptime_s"`
	DeviceState  string             `json:"device_state"`
	DeviceReason string             `json:"device_reason,omitempty"`
	Device       *wsproto.Device    `json:"device"`
	Rate         uint32             `json:"rate"`
	Channels     int                `json:"channels"`
	SampleType   string             `json:"sample_type"`
	Seq          uint32             `json:"seq"`
	History      wsproto.History    `json:"history"`
	Clients      []ClientInfo       `json:"clients"`
	MaxClients   int                `json:"max_clients"`
	Commands     bool               `json:"commands"`
	Counters     map[string]float64 `json:"counters"`
}

// Info returns what /api/info reports.
func (s *Server) Info() Info {
	sn := s.hub.snapshot()
	in := Info{Server: "wsbridge " + version(), Channel: sn.Channel, Epoch: sn.Epoch, UptimeS: time.Since(s.started).Seconds(),
		DeviceState: sn.State, DeviceReason: sn.Reason, Device: sn.Device, Rate: sn.Rate, Channels: sn.Channels,
		SampleType: sn.SampleType, Seq: sn.Next, History: sn.History, MaxClients: s.opts.MaxClients,
		Commands: s.commandPolicy() == nil, Clients: []ClientInfo{}, Counters: map[string]float64{}}
	s.mu.Lock()
	for c := range s.clients {
		in.Clients = append(in.Clients, ClientInfo{Address: c.addr, Format: c.format, Lag: c.lag(),
			Messages: c.sent.Load(), ConnectedS: time.Since(c.connected).Seconds()})
	}
	s.mu.Unlock()
	sort.Slice(in.Clients, func(i, j int) bool { return in.Clients[i].Address < in.Clients[j].Address })
	for _, c := range s.counters() {
		in.Counters[c.Name] = c.Value
	}
	return in
}

func (s *Server) serveInfo(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, s.Info())
}

// serveHealth answers 200 with the device state: serve itself is healthy
// while it answers, whether or not the device is attached.
func (s *Server) serveHealth(w http.ResponseWriter, _ *http.Request) {
	sn := s.hub.snapshot()
	writeJSON(w, http.StatusOK, map[string]any{"status": "ok", "device_state": sn.State, "epoch": sn.Epoch, "seq": sn.Next})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}
