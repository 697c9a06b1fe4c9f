package cli

import (
	"errors"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/wsbridge/wsbridge/internal/relay"
	"github.com/wsbridge/wsbridge/internal/sentinel"
	"github.com/wsbridge/wsbridge/internal/serve"
	"github.com/wsbridge/wsbridge/internal/web"
)

func newServe(g *globals, s Streams) *cobra.Command {
	o := serve.DefaultOptions()
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Serve an ESP32's serial stream (or the simulator) to WebSocket clients and a live page",
		Long: `serve reads an ESP32's samples from a USB serial port (or the built-in
simulator with --sim) and serves them on the network:

  /          the live page
  /ws        the stream: binary v1 frames, or ?format=json / ?format=csv text;
             ?since=SEQ resumes from the history without losing frames
  /healthz   health and device state      /api/info  device, clients, counters
  /metrics   Prometheus metrics (wsbridge_*)

It listens on 127.0.0.1:8080 by default; binding beyond loopback is your
choice (--listen 0.0.0.0:8080), and then set --token.

  wsbridge serve --sim --sim-signal counter
  wsbridge serve --port /dev/ttyUSB0 --baud 921600 --token "$(cat token)"

See docs/serve.md.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o.Log, o.Out, o.JSON = g.log, s.Out, g.JSON
			o.Relay.Page = web.Handler()
			return classifyServe(serve.Run(cmd.Context(), o))
		},
	}
	f := cmd.Flags()
	addPortFlags(f, &o.Capture)
	addRelayFlags(f, &o.Relay)
	addServeSimFlags(f, &o)
	f.StringVar(&o.Procs, "procs", o.Procs, "CPUs running Go code: auto (one while serve is light, all once it uses 30% of a core) or a number; the GOMAXPROCS variable overrides auto")
	addCheck(cmd, s, func() error {
		o.Log = g.log
		return classifyServe(serve.Check(cmd.Context(), o))
	})
	return cmd
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

// addServeSimFlags binds --sim and the simulator's settings, prefixed sim-.
func addServeSimFlags(f *pflag.FlagSet, o *serve.Options) {
	c := &o.SimCfg
	f.BoolVar(&o.Sim, "sim", o.Sim, "read the built-in simulated ESP32 instead of a serial port")
	f.StringVar(&c.Signal, "sim-signal", c.Signal, "simulator signal: sine, square, saw, noise, chirp, counter or wav:FILE")
	f.Uint32Var(&c.Rate, "sim-rate", c.Rate, "simulator sample rate in Hz per channel")
	f.IntVar(&c.Channels, "sim-channels", c.Channels, "simulator channels, 1..255")
	f.StringVar(&c.SampleType, "sim-sample-type", c.SampleType, "simulator sample type: u16, i16, i32 or f32")
	f.IntVar(&c.FrameSamples, "sim-frame-samples", c.FrameSamples, "simulator sample instants per frame; 0 = 10 ms worth")
	f.Float64Var(&c.Freq, "sim-freq", c.Freq, "simulator signal frequency in Hz")
	f.Float64Var(&c.Amplitude, "sim-amplitude", c.Amplitude, "simulator amplitude, fraction of full scale 0..1")
	f.StringVar(&c.Wire, "sim-wire", c.Wire, "simulator output: frames, text or plotter")
	f.IntVar(&c.Baud, "sim-baud", c.Baud, "pace the simulator to a UART at this baud; 0 = unlimited")
	f.StringVar(&c.Name, "sim-name", c.Name, "simulator device name")
	f.Uint64Var(&c.Seed, "sim-seed", c.Seed, "simulator random seed; 0 = random")
	f.BoolVar(&c.BootGarbage, "sim-boot-garbage", c.BootGarbage, "simulator fault: boot-log noise at start")
	f.Float64Var(&c.CorruptRate, "sim-corrupt-rate", c.CorruptRate, "simulator fault: flip each byte with this probability")
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
