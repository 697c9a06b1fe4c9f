package serve

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/wsbridge/wsbridge/internal/adcsim"
	"github.com/wsbridge/wsbridge/internal/capture"
	"github.com/wsbridge/wsbridge/internal/frame"
	"github.com/wsbridge/wsbridge/internal/procs"
	"github.com/wsbridge/wsbridge/internal/relay"
	"github.com/wsbridge/wsbridge/internal/result"
	"github.com/wsbridge/wsbridge/internal/sentinel"
)

// ErrConfig is wrapped by errors about the options (exit code 2 in the CLI).
var ErrConfig = errors.New("invalid serve configuration")

// Options configure serve: the device side, the network side, and the
// optional in-process simulator.
type Options struct {
	Capture capture.Options
	Relay   relay.Options
	Channel string        // the one channel's name; "" names it after the device kind ("sim" or "serial")
	Sim     bool          // --sim: read the in-process simulator instead of a port
	SimCfg  adcsim.Config // its settings (--sim-* flags)
	Procs   string        // --procs: GOMAXPROCS policy, procs.Auto or a count (see internal/procs)
	Out     io.Writer     // the one "listening" line; nil for none
	JSON    bool          // --json: that line as a JSON object (Listening)
	Log     zerolog.Logger
}

// Listening is what serve prints once it listens and the device is open.
type Listening struct {
	Page   string `json:"page"`   // http://127.0.0.1:8080/
	Stream string `json:"stream"` // ws://127.0.0.1:8080/ws
}

// String is "wsbridge serve: page URL stream WSURL".
func (l Listening) String() string {
	return fmt.Sprintf("wsbridge serve: page %s stream %s", l.Page, l.Stream)
}

// DefaultOptions returns the documented defaults.
func DefaultOptions() Options {
	sim := adcsim.DefaultConfig()
	r := relay.DefaultOptions()
	return Options{Capture: capture.DefaultOptions(), Relay: r, SimCfg: sim,
		Procs: procs.Auto, Log: zerolog.Nop()}
}

// Run serves until ctx is cancelled. Once it listens and the device is
// open it prints one line to Out: "wsbridge serve: page URL/ stream WSURL".
// It returns an error wrapping
// ErrConfig for bad options, relay.ErrListen or relay.ErrTLS when the
// address or certificate cannot be used, and capture's errors (ErrNotFound,
// ErrPermission, ErrBusy) when the device cannot be opened at start.
func Run(ctx context.Context, o Options) error {
	capt, srv, ch, err := build(&o)
	if err != nil {
		return err
	}
	base, err := srv.Listen()
	if err != nil {
		return err
	}
	h := &handler{ch: ch, ready: func() {
		if o.Out != nil {
			result.Print(o.Out, o.JSON, Listening{Page: base + "/", Stream: relay.WSURL(base)})
		}
	}}
	defer limitMemory(o.Relay.HistoryBytes, o.Log)()
	started, asked := time.Now(), ctx
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var adapting sync.WaitGroup
	defer adapting.Wait() // GOMAXPROCS is restored before Run returns
	adapting.Go(func() { procs.Adapt(ctx, o.Procs, o.Log) })
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ctx) }()
	captErr := make(chan error, 1)
	go func() { captErr <- capt.Run(ctx, h) }()
	select {
	case err = <-captErr:
		cancel()
		if e := <-serveErr; err == nil {
			err = e
		}
	case err = <-serveErr:
		cancel()
		<-captErr
	}
	logStopped(o.Log, stopReason(asked, err), time.Since(started), srv.Stopped(), ch.Info())
	return err
}

// stopReason says why serve stopped: asked to (SIGINT, SIGTERM), or the
// error that ended it.
func stopReason(asked context.Context, err error) string {
	if err == nil && asked.Err() != nil {
		return "shutdown requested"
	}
	if err == nil {
		return "stopped"
	}
	return err.Error()
}

// logStopped is the one line serve logs when it stops: why, what the
// shutdown did to the clients, what was received and lost over the run,
// and the history that goes with it.
func logStopped(log zerolog.Logger, why string, up time.Duration, st relay.Stopped, in relay.Info) {
	n := func(k string) uint64 { return uint64(in.Counters[k]) }
	h := in.History
	log.Info().Str("why", why).Float64("uptime_s", up.Seconds()).
		Int("clients_closed", st.Clients).Int("clients_cut_off", st.CutOff).Uint64("unsent", st.Unsent).
		Uint64("frames_received", n("frames_received_total")).Uint64("device_gaps", n("device_gaps_total")).
		Uint64("device_lost_frames", n("device_gap_frames_total")).Uint64("client_dropped_frames", n("client_dropped_frames_total")).
		Int("history_frames", h.Frames).Uint32("history_first_seq", h.FirstSeq).Uint32("history_last_seq", h.LastSeq).Str("epoch", h.Epoch).
		Msgf("serve stopped (%s): closed %d clients with 1001 (%d cut off after the grace period) with %d queued messages unsent; "+
			"over %.0fs received %d frames, lost %d frames in %d gaps between the device and serve, slow clients missed %d; "+
			"the %d frames of history (seqs %d..%d, epoch %s) end with this process",
			why, st.Clients, st.CutOff, st.Unsent, up.Seconds(), n("frames_received_total"), n("device_gap_frames_total"),
			n("device_gaps_total"), n("client_dropped_frames_total"), h.Frames, h.FirstSeq, h.LastSeq, h.Epoch)
}

// build makes the capture, the relay and its channel from o.
func build(o *Options) (*capture.Capture, *relay.Server, *relay.Channel, error) {
	if err := validateProcs(o.Procs); err != nil {
		return nil, nil, nil, err
	}
	if o.Sim {
		cfg := o.SimCfg
		cfg.Log = o.Log.With().Str("part", "sim").Logger()
		if err := validateSim(&cfg); err != nil {
			return nil, nil, nil, err
		}
		o.Capture.Sim = &cfg
	}
	o.Capture.Log = o.Log
	capt, err := capture.New(o.Capture)
	if err != nil {
		return nil, nil, nil, sentinel.Tag(err, ErrConfig)
	}
	o.Relay.Log = o.Log
	srv, err := relay.New(o.Relay)
	if err != nil {
		return nil, nil, nil, sentinel.Tag(err, ErrConfig)
	}
	ch, err := srv.AddChannel(relay.ChannelOptions{Name: cmp.Or(o.Channel, singleChannel(o)), Commander: capt,
		Counters: func() []relay.Counter { return captureCounters(capt.Stats()) }})
	if err != nil {
		return nil, nil, nil, sentinel.Tag(err, ErrConfig)
	}
	return capt, srv, ch, nil
}

// singleChannel names the one channel of --port or --sim: "sim" for the
// simulator, "serial" for a port.
func singleChannel(o *Options) string {
	if o.Sim {
		return "sim"
	}
	return "serial"
}

// handler passes capture's packets and device events to the relay.
// Capture hands data frames on as read; the relay's channel alone follows
// their sequence numbers (gaps, duplicates, late frames, restarts), so
// each is counted, logged and sent to clients once, in order with the
// frames. ready runs once, when the device first comes up: then serve
// announces its URLs.
type handler struct {
	ch    *relay.Channel
	ready func()
	once  sync.Once
}

func (h *handler) Packet(p *frame.Packet) { h.ch.Packet(p) }

func (h *handler) Event(e capture.Event) {
	switch e.Kind {
	case capture.DeviceUp:
		h.ch.Up(e.Reason + " " + e.Port)
		h.once.Do(h.ready)
	case capture.DeviceDown:
		h.ch.Down(e.Reason)
	}
}

// captureCounters exposes the capture's counters to /metrics and /api/info.
func captureCounters(s capture.Stats) []relay.Counter {
	c := func(name, help string, v uint64) relay.Counter {
		return relay.Counter{Name: name, Help: help, Value: float64(v)}
	}
	return []relay.Counter{
		c("serial_bytes_total", "Bytes read from the serial port.", s.Bytes),
		c("serial_packets_total", "Valid packets decoded (any type).", s.Packets),
		c("serial_frames_total", "Valid data frames decoded.", s.Frames),
		c("serial_noise_bytes_total", "Bytes rejected by the decoder (garbage, boot logs, broken packets).", s.NoiseBytes),
		c("serial_crc_errors_total", "Packets dropped for a failed CRC-32C.", s.CRCErrors),
		c("serial_malformed_total", "Packets dropped for a bad length, type or field; text input: lines dropped because their fields did not fit the channels.", s.Malformed),
		c("serial_oversize_total", "Runs longer than the largest packet, dropped.", s.Oversize),
		c("device_opens_total", "Successful opens of the device, including the first.", s.Opens),
		c("device_reopens_total", "Reopens after the device was lost.", s.Reopens),
		c("device_downs_total", "Times the device was lost.", s.Downs),
		c("device_commands_total", "Command lines written to the device.", s.Commands),
		c("device_command_errors_total", "Command lines that failed to write.", s.CommandErrors),
	}
}

// Check validates o as Run would and probes what Run would use, without
// serving: the device is opened and closed again, the listen address is
// bound and released. It warns (on o.Log) about a listen address beyond
// loopback without a token. What `wsbridge serve --check` runs; its
// errors are Run's (ErrConfig, relay.ErrListen, capture's ErrNotFound,
// ErrPermission, ErrBusy).
func Check(ctx context.Context, o Options) error {
	if err := validate(o); err != nil {
		return err
	}
	if err := probeListen(o.Relay, o.Log); err != nil {
		return err
	}
	return probeDevice(ctx, o)
}

// probeListen binds the listen address and releases it.
func probeListen(ro relay.Options, log zerolog.Logger) error {
	ro.Log = log
	srv, err := relay.New(ro)
	if err != nil {
		return sentinel.Tag(err, ErrConfig)
	}
	return srv.Probe()
}

// probeDevice opens the device and closes it again.
func probeDevice(ctx context.Context, o Options) error {
	if o.Sim {
		return nil
	}
	o.Capture.Log = o.Log
	capt, err := capture.New(o.Capture)
	if err != nil {
		return sentinel.Tag(err, ErrConfig)
	}
	port, err := capt.Probe(ctx)
	if err != nil {
		return err
	}
	o.Log.Info().Str("port", port).Msg("check: the device opens")
	return nil
}

// validate checks the options without touching the device or the network.
func validate(o Options) error {
	if err := validateProcs(o.Procs); err != nil {
		return err
	}
	if o.Sim {
		if err := validateSim(&o.SimCfg); err != nil {
			return err
		}
	}
	if err := o.Capture.Validate(); err != nil {
		return sentinel.Tag(err, ErrConfig)
	}
	if err := o.Relay.Validate(); err != nil {
		return sentinel.Tag(err, ErrConfig)
	}
	return nil
}

// validateProcs checks --procs.
func validateProcs(spec string) error {
	if _, err := procs.Parse(spec); err != nil {
		return sentinel.Errorf(ErrConfig, "--procs %q: %w", spec, err)
	}
	return nil
}

// validateSim checks the --sim-* settings, naming them as the user typed them.
func validateSim(cfg *adcsim.Config) error {
	if err := cfg.Validate(); err != nil {
		return sentinel.Errorf(ErrConfig, "invalid simulator settings (flag names without the sim- prefix): %w", err)
	}
	return nil
}
