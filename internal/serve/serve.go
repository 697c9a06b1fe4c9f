package serve

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/wsbridge/wsbridge/internal/adcsim"
	"github.com/wsbridge/wsbridge/internal/bus"
	"github.com/wsbridge/wsbridge/internal/capture"
	"github.com/wsbridge/wsbridge/internal/procs"
	"github.com/wsbridge/wsbridge/internal/relay"
	"github.com/wsbridge/wsbridge/internal/result"
	"github.com/wsbridge/wsbridge/internal/sentinel"
	"github.com/wsbridge/wsbridge/internal/source"
)

// ErrConfig is wrapped by errors about the options (exit code 2 in the CLI).
var ErrConfig = errors.New("invalid serve configuration")

// Options configure serve: its devices, the network side, the runtime.
type Options struct {
	// Devices are the channels, from --device and the config file's
	// devices:. Empty: the one device of Capture (--port, --match, ...) or,
	// with Sim, of SimCfg (--sim, --sim-*).
	Devices []Device
	// Require says what happens when a device cannot be opened at start:
	// source.RequireAll (exit with its error), source.RequireNone (serve
	// the others, report it down, retry), or "auto" / "": all with one
	// device, none with several (--require-devices).
	Require string
	// SingleFlags are the flags of the one device given on the command
	// line (port, baud, sim-rate, ...): with Devices they are an error.
	SingleFlags []string

	Capture capture.Options
	Sim     bool          // --sim: read the in-process simulator instead of a port
	SimCfg  adcsim.Config // its settings (--sim-* flags)
	Channel string        // the one device's channel name; "" names it after its kind ("sim" or "serial")
	Relay   relay.Options
	Procs   string     // --procs: GOMAXPROCS policy, procs.Auto or a count (see internal/procs)
	Bus     bus.Config // --bus: publish the channels on NATS JetStream and serve the bus's (docs/bus.md)
	Out     io.Writer  // the one "listening" line; nil for none
	JSON    bool       // --json: that line as a JSON object (Listening)
	Log     zerolog.Logger

	// RecordDir enables serve's recorder (--record-dir): the page's record
	// button and POST /api/channels/NAME/record write into it. "": off.
	RecordDir string
	// Recorder makes serve's recorder once it listens: its endpoints on
	// srv, its recordings reading srv's streams (ws://HOST:PORT/ws).
	// The CLI passes recordings.ForServe with RecordDir (checked and made
	// absolute by then); nil: no recorder endpoints at all.
	Recorder func(srv *relay.Server, streams string) (Recorder, error)
}

// Listening is what serve prints once it listens and its devices have
// come up (or, with --require-devices none, been reported down).
type Listening struct {
	Page    string            `json:"page"`    // http://127.0.0.1:8080/
	Stream  string            `json:"stream"`  // ws://127.0.0.1:8080/ws with one channel; the first channel's /ws/NAME with several
	Streams map[string]string `json:"streams"` // every channel's stream: name -> ws://127.0.0.1:8080/ws/NAME
	order   []string
}

// String is "wsbridge serve: page URL stream WSURL" (with several
// channels, every channel's WSURL after stream).
func (l Listening) String() string {
	streams := l.Stream
	if len(l.order) > 1 {
		var urls []string
		for _, n := range l.order {
			urls = append(urls, l.Streams[n])
		}
		streams = strings.Join(urls, " ")
	}
	return fmt.Sprintf("wsbridge serve: page %s stream %s", l.Page, streams)
}

// DefaultOptions returns the documented defaults.
func DefaultOptions() Options {
	return Options{Capture: capture.DefaultOptions(), Relay: relay.DefaultOptions(), SimCfg: adcsim.DefaultConfig(),
		Require: "auto", Procs: procs.Auto, Log: zerolog.Nop()}
}

// Run serves until ctx is cancelled. Once it listens and every device has
// come up (or been reported down) it prints one line to Out, Listening.
// It returns an error wrapping ErrConfig for bad options, relay.ErrListen
// or relay.ErrTLS when the address or certificate cannot be used, and
// when a device cannot be opened at start under --require-devices all,
// capture's errors (ErrNotFound, ErrPermission, ErrBusy) prefixed with
// the device's field (devices[1].port: ...).
func Run(ctx context.Context, o Options) error {
	devs, err := resolve(&o)
	if err != nil {
		return err
	}
	srv, sup, capBytes, err := build(&o, devs)
	if err != nil {
		return err
	}
	base, err := srv.Listen()
	if err != nil {
		return err
	}
	recs, err := newRecorder(&o, srv, base)
	if err != nil {
		return err
	}
	if o.Bus.Enabled() {
		node, err := bus.Attach(o.Bus, srv, bus.NodeOptions{Log: o.Log})
		if err != nil {
			return sentinel.Tag(err, ErrConfig)
		}
		defer node.Close() // after the devices stopped: the publishers take what the rings still hold
	}
	defer limitMemory(capBytes, o.Log)()
	started, asked := time.Now(), ctx
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var adapting sync.WaitGroup
	defer adapting.Wait() // GOMAXPROCS is restored before Run returns
	adapting.Go(func() { procs.Adapt(ctx, o.Procs, o.Log) })
	serveErr := make(chan error, 1)
	srvCtx, stopSrv := context.WithCancel(context.WithoutCancel(ctx))
	defer stopSrv()
	go func() { serveErr <- srv.Serve(srvCtx) }()
	go func() { // the recordings end (files complete) before their streams close
		<-ctx.Done()
		recs.Shutdown()
		stopSrv()
	}()
	supErr := make(chan error, 1)
	ready := sup.Ready()
	if len(devs) == 0 { // a front-end of the bus: its channels are the bus's
		o.Log.Info().Msg("no local device: serving the bus's channels (pass --port, --match, --sim or --device to publish one)")
		go func() { <-ctx.Done(); supErr <- nil }()
		now := make(chan struct{})
		close(now)
		ready = now
	} else {
		go func() { supErr <- sup.Run(ctx) }()
	}
	go func() {
		select {
		case <-ready:
			if o.Out != nil {
				result.Print(o.Out, o.JSON, listening(base, srv))
			}
		case <-ctx.Done():
		}
	}()
	select {
	case err = <-supErr:
		cancel()
		if e := <-serveErr; err == nil {
			err = e
		}
	case err = <-serveErr:
		cancel()
		<-supErr
	}
	logStopped(o.Log, stopReason(asked, err), time.Since(started), srv.Stopped(), srv.Channels(), recs)
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
// shutdown did to the clients, what was received and lost over the run
// (all channels), and the history that goes with it (each channel's).
func logStopped(log zerolog.Logger, why string, up time.Duration, st relay.Stopped, chs []*relay.Channel, recs Recorder) {
	var frames, gaps, lost, dropped uint64
	var hist []string
	held := 0
	for _, ch := range chs {
		in := ch.Info()
		n := func(k string) uint64 { return uint64(in.Counters[k]) }
		frames, gaps, lost, dropped = frames+n("frames_received_total"), gaps+n("device_gaps_total"),
			lost+n("device_gap_frames_total"), dropped+n("client_dropped_frames_total")
		h := in.History
		held += h.Frames
		hist = append(hist, fmt.Sprintf("%s: %d frames, seqs %d..%d, epoch %s", in.Channel, h.Frames, h.FirstSeq, h.LastSeq, h.Epoch))
	}
	nrec, recLine := recs.Shutdown() // done already: what it stopped
	log.Info().Str("why", why).Float64("uptime_s", up.Seconds()).
		Int("clients_closed", st.Clients).Int("clients_cut_off", st.CutOff).Uint64("unsent", st.Unsent).
		Uint64("frames_received", frames).Uint64("device_gaps", gaps).Uint64("device_lost_frames", lost).
		Uint64("client_dropped_frames", dropped).Int("history_frames", held).Strs("history", hist).
		Int("recordings_stopped", nrec).
		Msgf("serve stopped (%s): closed %d clients with 1001 (%d cut off after the grace period) with %d queued messages unsent; "+
			"over %.0fs received %d frames, lost %d frames in %d gaps between the devices and serve, slow clients missed %d; "+
			"the history ends with this process (%s)%s",
			why, st.Clients, st.CutOff, st.Unsent, up.Seconds(), frames, lost, gaps, dropped, strings.Join(hist, "; "), recLine)
}

// listening is the line serve prints once ready.
func listening(base string, srv *relay.Server) Listening {
	l := Listening{Page: base + "/", Streams: map[string]string{}}
	for _, ch := range srv.Channels() {
		l.Streams[ch.Name()] = relay.WSURL(base) + "/" + ch.Name()
		l.order = append(l.order, ch.Name())
	}
	l.Stream = relay.WSURL(base)
	if len(l.order) > 1 {
		l.Stream = l.Streams[l.order[0]]
	}
	return l
}

// resolve returns the devices serve runs, checked: o.Devices, or the one
// device of the --port and --sim flags.
func resolve(o *Options) ([]Device, error) {
	if err := validateProcs(o.Procs); err != nil {
		return nil, err
	}
	if err := checkRecordDir(o); err != nil {
		return nil, err
	}
	switch o.Require {
	case "", "auto", source.RequireAll, source.RequireNone:
	default:
		return nil, sentinel.Errorf(ErrConfig, "--require-devices %q: want all (exit if a device cannot be opened at start), none (serve the others, retry it) or auto (all with one device, none with several)", o.Require)
	}
	if len(o.Devices) == 0 && frontEnd(o) {
		return nil, nil
	}
	if len(o.Devices) == 0 {
		d, err := single(o)
		if err != nil {
			return nil, err
		}
		return []Device{d}, nil
	}
	if len(o.SingleFlags) > 0 {
		return nil, sentinel.Errorf(ErrConfig, "--%s set the one device of --port or --sim, but devices are configured (--device or devices:): give those settings per device, e.g. --device mic=/dev/ttyUSB0,baud=2000000",
			strings.Join(o.SingleFlags, ", --"))
	}
	if err := checkDevices(o.Devices); err != nil {
		return nil, sentinel.Tag(err, ErrConfig)
	}
	if err := checkTokens(o.Devices, o.Relay.Token); err != nil {
		return nil, sentinel.Tag(err, ErrConfig)
	}
	return o.Devices, nil
}

// frontEnd reports a front-end of the bus: --bus without a device of its
// own (no --device, --port, --match or --sim), serving the bus's channels.
func frontEnd(o *Options) bool {
	return o.Bus.Enabled() && !o.Sim && o.Capture.Port == "" && o.Capture.Match == "" && len(o.SingleFlags) == 0
}

// single is the one device of --port (or --match, or the one ESP32
// present) or --sim.
func single(o *Options) (Device, error) {
	d := Device{Name: cmp.Or(o.Channel, "serial"), Serial: o.Capture}
	if o.Sim {
		cfg := o.SimCfg
		if err := validateSim(&cfg); err != nil {
			return Device{}, err
		}
		d.Name, d.Sim = cmp.Or(o.Channel, "sim"), &cfg
	} else if err := o.Capture.Validate(); err != nil {
		return Device{}, sentinel.Tag(err, ErrConfig)
	}
	if !relay.ValidChannelName(d.Name) {
		return Device{}, sentinel.Errorf(ErrConfig, "channel name %q: want 1 to 32 lower-case letters, digits, - or _", d.Name)
	}
	return d, nil
}

// require is the start policy for n devices.
func require(o *Options, n int) string {
	if o.Require == source.RequireAll || o.Require == source.RequireNone {
		return o.Require
	}
	if n == 1 {
		return source.RequireAll
	}
	return source.RequireNone
}

// build makes the relay, a channel per device and the supervisor that
// runs the devices' sources into them. capBytes is the sum of the
// channels' history caps.
func build(o *Options, devs []Device) (srv *relay.Server, sup *source.Supervisor, capBytes int64, err error) {
	o.Relay.Log = o.Log
	srv, err = relay.New(o.Relay)
	if err != nil {
		return nil, nil, 0, sentinel.Tag(err, ErrConfig)
	}
	sup = &source.Supervisor{Require: require(o, len(devs)), Log: o.Log}
	for _, d := range devs {
		newSource, pub := factory(d, o)
		r := &source.Runner{Name: d.Name, Path: d.sourcePath(), New: newSource}
		co := relay.ChannelOptions{Name: d.Name, History: d.History, HistoryBytes: d.HistoryBytes,
			Commander: r, Counters: r.Counters}
		if pub != nil {
			co.Ingest = pub
		}
		ch, err := srv.AddChannel(co)
		if err != nil {
			return nil, nil, 0, sentinel.Tag(fmt.Errorf("%s: %w", d.Path, err), ErrConfig)
		}
		if pub != nil {
			pub.ch.Store(ch)
		}
		r.Pub = ch
		sup.Add(r)
		capBytes += ch.HistoryBytes()
	}
	return srv, sup, capBytes, nil
}

// factory makes d's source afresh for each (re)start; for a network
// device it also returns the handler of its /pub/NAME.
func factory(d Device, o *Options) (func() (source.Source, error), *pubHandler) {
	log := o.Log.With().Str("channel", d.Name).Logger()
	if d.Network != nil || d.Pull != nil {
		return netSource(d, o, log)
	}
	if d.Sim != nil {
		cfg := *d.Sim
		cfg.Log = log.With().Str("part", "sim").Logger()
		return func() (source.Source, error) { return source.NewSim(cfg) }, nil
	}
	opts := d.Serial
	opts.Log = log
	if p := d.sourcePath(); p != "" {
		opts.Setting, opts.Without = p, d.withoutBoard()
	}
	return func() (source.Source, error) { return capture.New(opts) }, nil
}

// Check validates o as Run would and probes what Run would use, without
// serving: every serial device is opened and closed again, the listen
// address is bound and released. It warns (on o.Log) about a listen
// address beyond loopback without a token. What `wsbridge serve --check`
// runs; its errors are Run's (ErrConfig, relay.ErrListen, capture's
// ErrNotFound, ErrPermission, ErrBusy prefixed with the device's field).
func Check(ctx context.Context, o Options) error {
	devs, err := resolve(&o)
	if err != nil {
		return err
	}
	if err := o.Relay.Validate(); err != nil {
		return sentinel.Tag(err, ErrConfig)
	}
	if o.Bus.Enabled() {
		c := o.Bus
		c.Defaults()
		if err := c.Validate(); err != nil {
			return sentinel.Tag(err, ErrConfig)
		}
	}
	if err := probeListen(o.Relay, o.Log); err != nil {
		return err
	}
	for _, d := range devs {
		if err := probeDevice(ctx, d, o.Log); err != nil {
			return err
		}
	}
	return nil
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

// probeDevice opens a serial device and closes it again.
func probeDevice(ctx context.Context, d Device, log zerolog.Logger) error {
	switch {
	case d.Sim != nil:
		return nil
	case d.Network != nil:
		log.Info().Str("channel", d.Name).Msg("check: a network device: it connects to /pub/" + d.Name + " once serve runs")
		return nil
	case d.Pull != nil:
		log.Info().Str("channel", d.Name).Str("url", d.Pull.URL).Msg("check: a pulled device: serve dials it once it runs")
		return nil
	}
	d.Serial.Log = log
	capt, err := capture.New(d.Serial)
	if err != nil {
		return sentinel.Tag(err, ErrConfig)
	}
	port, err := capt.Probe(ctx)
	if err != nil {
		if p := d.sourcePath(); p != "" {
			return fmt.Errorf("%s: %w", p, err)
		}
		return err
	}
	log.Info().Str("channel", d.Name).Str("port", port).Msg("check: the device opens")
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
