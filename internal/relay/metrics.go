package relay

import (
	"bufio"
	"net/http"
	"strconv"
	"time"

	"github.com/wsbridge/wsbridge/internal/wsproto"
)

func counter(name, help string, v uint64) Counter {
	return Counter{Name: name, Help: help, Value: float64(v)}
}

func gauge(name, help string, v float64) Counter {
	return Counter{Name: name, Help: help, Value: v, Gauge: true}
}

// counters lists the server's own metrics: those of requests refused
// before they reach a channel.
func (s *Server) counters() []Counter {
	st := &s.stats
	return append([]Counter{
		gauge("uptime_seconds", "Seconds since serve started.", time.Since(s.started).Seconds()),
		gauge("channels", "Channels this server carries.", float64(len(s.Channels()))),
		gauge("clients_total_connected", "WebSocket clients connected, all channels.", float64(len(s.slots))),
		counter("clients_refused_full_total", "WebSocket clients refused with 503 (--max-clients).", st.refusedFull.Load()),
		counter("requests_unauthorized_total", "Requests refused with 401 (missing or wrong token).", st.refusedAuth.Load()),
		counter("clients_refused_origin_total", "WebSocket clients refused with 403 (foreign Origin).", st.refusedOrigin.Load()),
		counter("requests_refused_host_total", "Requests refused with 421 (Host not a name of this server: DNS rebinding).", st.refusedHost.Load()),
	}, s.attached.list()...)
}

// counters lists the channel's metrics followed by its source's: what
// /metrics reports with the channel label.
func (c *Channel) counters() []Counter {
	st := &c.stats
	sn := c.hub.snapshot()
	up := 0.0
	if sn.State == wsproto.StateUp {
		up = 1
	}
	out := []Counter{
		gauge("device_up", "1 while the device is delivering, 0 while it is gone.", up),
		counter("frames_received_total", "Data frames received from the device and published.", st.frames.Load()),
		counter("frame_bytes_received_total", "Bytes of the data frames published (v1 packets).", st.frameBytes.Load()),
		counter("frames_duplicate_total", "Data frames dropped because their seq was published already.", st.duplicates.Load()),
		counter("frames_late_total", "Data frames dropped because they arrived after their gap was reported (reordered).", st.late.Load()),
		counter("device_gaps_total", "Sequence gaps between the device and serve.", st.deviceGaps.Load()),
		counter("device_gap_frames_total", "Frames lost between the device and serve.", st.deviceGapFrames.Load()),
		counter("device_restarts_total", "Times the device restarted its sequence numbers.", st.restarts.Load()),
		gauge("history_frames", "Data frames held in the history ring.", float64(sn.Frames)),
		gauge("history_bytes", "Memory the history holds as --history-bytes counts it: entries, packets, cached JSON and CSV renderings.", float64(sn.RingBytes)),
		gauge("clients", "WebSocket clients connected.", float64(c.connected.Load())),
		counter("clients_accepted_total", "WebSocket clients accepted.", st.accepted.Load()),
		counter("messages_sent_total", "WebSocket messages sent to clients.", st.messagesSent.Load()),
		counter("bytes_sent_total", "Payload bytes of the WebSocket messages sent.", st.bytesSent.Load()),
		counter("slow_client_skips_total", "Times a slow client was skipped ahead (--slow-client skip).", st.slowSkips.Load()),
		counter("slow_client_closes_total", "Slow clients closed with 1008 (--slow-client close).", st.slowCloses.Load()),
		counter("client_dropped_frames_total", "Frames slow clients never received because they fell behind the history.", st.droppedFrames.Load()),
		counter("client_backfills_total", "Remote channels: times a client read from the bus what this node's history no longer held.", st.backfills.Load()),
		counter("client_write_timeouts_total", "Clients dropped because a write did not finish within --write-timeout.", st.writeTimeouts.Load()),
		counter("client_ping_timeouts_total", "Clients dropped because they did not answer a ping.", st.pingTimeouts.Load()),
		counter("client_messages_total", "Messages received from clients.", st.clientMessages.Load()),
		counter("client_errors_total", "Client messages answered with an error message.", st.clientErrors.Load()),
		counter("client_oversize_total", "Clients closed with 1009 for a message over the limit.", st.oversize.Load()),
		counter("commands_total", "Commands forwarded to the device.", st.commands.Load()),
		counter("envelope_batches_total", "Batches of frames closed for envelope clients (about 30 a second while frames flow).", st.envBatches.Load()),
		counter("envelope_computations_total", "Envelopes computed: once per batch and level asked for, shared by every client of that level.", st.envComputed.Load()),
		counter("envelope_client_computations_total", "Envelopes computed for one client: the part of a batch after its resume point.", st.envHeads.Load()),
	}
	if c.sourceCtr != nil {
		out = append(out, c.sourceCtr()...)
	}
	return append(out, c.attached.list()...)
}

// family is one metric name in /metrics: its help, type and samples.
type family struct {
	Counter
	lines []string
}

// serveMetrics writes the Prometheus text exposition format (0.0.4): the
// server's metrics without labels, then every per-channel metric with a
// channel label, one family (HELP and TYPE) per name.
func (s *Server) serveMetrics(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	var fams []*family
	byName := map[string]*family{}
	add := func(c Counter, label string) {
		f := byName[c.Name]
		if f == nil {
			f = &family{Counter: c}
			byName[c.Name] = f
			fams = append(fams, f)
		}
		f.lines = append(f.lines, "wsbridge_"+c.Name+label+" "+strconv.FormatFloat(c.Value, 'g', -1, 64)+"\n")
	}
	for _, c := range s.counters() {
		add(c, "")
	}
	for _, ch := range s.Channels() {
		label := `{channel="` + ch.name + `"}` // names need no escaping
		for _, c := range ch.counters() {
			add(c, label)
		}
	}
	bw := bufio.NewWriter(w)
	for _, f := range fams {
		typ := "counter"
		if f.Gauge {
			typ = "gauge"
		}
		name := "wsbridge_" + f.Name
		bw.WriteString("# HELP " + name + " " + f.Help + "\n# TYPE " + name + " " + typ + "\n")
		for _, l := range f.lines {
			bw.WriteString(l)
		}
	}
	bw.Flush()
}
