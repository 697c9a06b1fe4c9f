package cli

import (
	"errors"
	"io"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"gopkg.in/yaml.v3"

	"github.com/wsbridge/wsbridge/internal/adcsim"
	"github.com/wsbridge/wsbridge/internal/bus"
	"github.com/wsbridge/wsbridge/internal/capture"

	"github.com/wsbridge/wsbridge/internal/recordings"
	"github.com/wsbridge/wsbridge/internal/relay"
	"github.com/wsbridge/wsbridge/internal/sentinel"
	"github.com/wsbridge/wsbridge/internal/serve"
	"github.com/wsbridge/wsbridge/internal/web"
)

func newServe(g *globals, s Streams) *cobra.Command {
	o := serve.DefaultOptions()
	o.Recorder = func(srv *relay.Server, streams string) (serve.Recorder, error) { // --record-dir, read when serve listens
		return recordings.ForServe(srv, streams, recordings.ServeConfig{Dir: o.RecordDir, Token: o.Relay.Token,
			TLSCert: o.Relay.TLSCert, TLSKey: o.Relay.TLSKey, Log: o.Log})
	}
	var specs []string             // --device
	var fileDevices []serve.Device // the config file's devices:
	var fileBus bus.Config         // the config file's bus:
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Serve ESP32s' serial streams (or the simulator) to WebSocket clients and a live page",
		Long: `serve reads ESP32s' samples from USB serial ports (or the built-in
simulator with --sim) and serves each device as a channel on the network:

  /             the live page
  /ws/NAME      a channel's stream: binary v1 frames, or ?format=json / csv text;
                ?since=SEQ&epoch=E resumes from the history without losing frames
                (/ws: the stream when there is one channel)
  /api/channels the channels: device, state, rate, clients, counters
  /api/recordings recordings made from the page or the API (--record-dir DIR)
  /healthz      health, and the channels whose device is down
  /metrics      Prometheus metrics (wsbridge_*, per channel with channel="NAME")

One device: --port PATH (or --match, or the one ESP32 present), or --sim.
Several: --device NAME=SPEC, repeated, or devices: in the --config file:

  wsbridge serve --sim --sim-signal counter
  wsbridge serve --port /dev/ttyUSB0 --baud 921600 --token "$(cat token)"
  wsbridge serve --device mic=/dev/ttyUSB0 --device accel=match:10c4:ea60:0002,baud=460800 \
                 --device demo=sim:signal=sine,rate=48000

It listens on 127.0.0.1:8080 by default; binding beyond loopback is your
choice (--listen 0.0.0.0:8080), and then set --token.

See docs/serve.md.`,
		Args: cobra.NoArgs,
		PreRunE: func(cmd *cobra.Command, _ []string) error { // before RunE and --check alike
			o.Bus = bus.Merge(fileBus, o.Bus, cmd.Flags().Changed)
			return devicesFromFlags(cmd, &o, specs, fileDevices)
		},
		RunE: func(cmd *cobra.Command, _ []string) error {
			o.Log, o.Out, o.JSON = g.log, s.Out, g.JSON
			o.Relay.Page = web.Handler()
			return classifyServe(serve.Run(cmd.Context(), o))
		},
	}
	g.section("serve", "devices", func(v *yaml.Node) error {
		var err error
		fileDevices, err = serve.ParseDevices(v)
		return err
	})
	g.section("serve", "bus", func(v *yaml.Node) error { return bus.ReadSection(v, &fileBus) })
	f := cmd.Flags()
	capture.BindFlags(f, &o.Capture)
	addRelayFlags(f, &o.Relay)
	f.BoolVar(&o.Sim, "sim", o.Sim, "read the built-in simulated ESP32 instead of a serial port")
	adcsim.BindFlags(f, &o.SimCfg, "sim-")
	f.StringArrayVar(&specs, "device", nil, "a device as NAME=SPEC, repeatable: NAME=/dev/ttyUSB0[,baud=N,...], NAME=match:VID:PID[:SERIAL], NAME=sim[:signal=sine,rate=48000,...], NAME=network:token=T[,input=json] (a board publishing on /pub/NAME), NAME=pull:ws://BOARD:81/ (docs/serve.md)")
	f.StringVar(&o.Require, "require-devices", o.Require, "a device that cannot be opened at start: all (exit with its error), none (serve the others, report it down, retry) or auto (all with one device, none with several)")
	bus.BindFlags(f, &o.Bus)
	f.StringVar(&o.RecordDir, "record-dir", o.RecordDir, "record channels into this directory from the page's record button and POST /api/channels/NAME/record (off without it; docs/record.md)")
	_ = cmd.MarkFlagDirname("record-dir")
	f.StringVar(&o.Procs, "procs", o.Procs, "CPUs running Go code: auto (one while one keeps up, all once its thread runs or waits for a CPU 70% of the time) or a number; the GOMAXPROCS variable overrides auto")
	addCheck(cmd, s, func() error {
		o.Log = g.log
		return classifyServe(serve.Check(cmd.Context(), o))
	}, func(w io.Writer) error { return serve.DumpDevices(w, o.Devices) })
	return cmd
}

// devicesFromFlags fills o.Devices from --device (which replaces the
// config file's devices:) and notes the one-device flags that were set.
func devicesFromFlags(cmd *cobra.Command, o *serve.Options, specs []string, fileDevices []serve.Device) error {
	o.Devices = fileDevices
	if len(specs) > 0 {
		o.Devices = nil
		for _, spec := range specs {
			d, err := serve.ParseDevice(spec)
			if err != nil {
				return sentinel.Tag(err, ErrUsage)
			}
			o.Devices = append(o.Devices, d)
		}
	}
	o.SingleFlags = nil
	one := pflag.NewFlagSet("one", pflag.ContinueOnError)
	capture.BindFlags(one, &capture.Options{})
	adcsim.BindFlags(one, &adcsim.Config{}, "sim-")
	one.Bool("sim", false, "")
	cmd.Flags().Visit(func(f *pflag.Flag) {
		if one.Lookup(f.Name) != nil {
			o.SingleFlags = append(o.SingleFlags, f.Name)
		}
	})
	return nil
}

func addRelayFlags(f *pflag.FlagSet, o *relay.Options) {
	f.StringVar(&o.Listen, "listen", o.Listen, "address to listen on; beyond loopback (e.g. 0.0.0.0:8080) set --token")
	f.DurationVar(&o.History, "history", o.History, "sample time kept for clients resuming with ?since=SEQ")
	f.Int64Var(&o.HistoryBytes, "history-bytes", o.HistoryBytes, "hard cap on the history's size in bytes")
	f.StringVar(&o.SlowClient, "slow-client", o.SlowClient, "a client further behind than the history: skip (gap message, jump ahead) or close (1008)")
	f.DurationVar(&o.PingInterval, "ping-interval", o.PingInterval, "WebSocket keepalive ping; a silent peer is dropped within about two intervals")
	f.DurationVar(&o.WriteTimeout, "write-timeout", o.WriteTimeout, "a write to a client that does not complete in this time drops the client")
	f.IntVar(&o.MaxClients, "max-clients", o.MaxClients, "WebSocket clients at most; more get HTTP 503")
	f.StringVar(&o.Token, "token", o.Token, "require this token on /ws, /api and /metrics (Authorization: Bearer or ?token=); also WSBRIDGE_TOKEN")
	f.StringSliceVar(&o.AllowOrigin, "allow-origin", o.AllowOrigin, "also accept WebSockets from pages on these hosts (patterns like *.example.com); same host is always allowed")
	f.StringSliceVar(&o.AllowHost, "allow-host", o.AllowHost, "also accept requests whose Host header is one of these names (patterns like *.lab.example; * for any): loopback names, IP addresses and, beyond loopback, this machine's name are always accepted")
	f.StringVar(&o.TLSCert, "tls-cert", o.TLSCert, "PEM certificate: serve https and wss")
	f.StringVar(&o.TLSKey, "tls-key", o.TLSKey, "PEM private key for --tls-cert")
	f.BoolVar(&o.AllowCommands, "allow-commands", o.AllowCommands, `forward {"type":"command"} messages from clients to the device`)
}

// classifyServe maps serve's errors to exit codes: configuration 2,
// network 4, device 3.
func classifyServe(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, serve.ErrConfig), errors.Is(err, relay.ErrTLS):
		return sentinel.Tag(err, ErrUsage)
	case errors.Is(err, relay.ErrListen):
		return sentinel.Tag(err, ErrNetwork)
	}
	return sentinel.Tag(err, ErrDevice)
}
