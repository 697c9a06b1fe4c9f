package cli

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/mattn/go-isatty"
	"github.com/rs/zerolog"
	"github.com/spf13/cobra"

	"github.com/wsbridge/wsbridge/internal/sentinel"
	"github.com/wsbridge/wsbridge/internal/sink"
)

func newSink(g *globals, s Streams) *cobra.Command {
	o := sink.DefaultOptions()
	cmd := &cobra.Command{
		Use:   "sink",
		Short: "Write a serve WebSocket stream into a real or virtual serial port (for R)",
		Long: `sink connects to a wsbridge serve (--url ws://HOST:PORT/ws) and writes the live
stream into a virtual serial port (--virtual PATH: a pty with a symlink at PATH)
or a real one (--port /dev/ttyUSB1 --baud N), where R reads it as though the
ESP32 were wired to this machine. It prints how to open the port from R.

It reconnects while the trouble can heal (backoff 250ms doubling to 10s, with
jitter) and resumes where it stopped (?since=SEQ&epoch=E), so a drop shorter
than serve's --history loses nothing; every gap, drop (output buffer full) and
restart is counted, logged with exact frame ranges and, in csv and plain,
written into the port as a '# gap ...' or '# restart ...' line in order with
the data. A server that refuses the sink for good (bad token, untrusted
certificate, wrong path, not wsbridge) ends it with exit code 4 unless
--retry-forever. Lines written into the port are sent to serve as commands.

--url may also be a board's own WebSocket server, as the ESP32 tutorials'
sketches run (JSON such as {"value": 1234}, text lines, or v1 packets): its
values go into the port as csv lines; see --input.

Examples:
  wsbridge sink --url ws://sensor:8080/ws --virtual /tmp/ttyESP --header
  wsbridge sink --url ws://esp32.local:81/ --virtual /tmp/ttyESP`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o.Out, o.Log, o.JSON = s.Out, g.log, g.JSON
			if term := liveTerminal(g, s); term != nil {
				o.Live = term
				o.Log = zerolog.New(zerolog.ConsoleWriter{Out: term, TimeFormat: time.TimeOnly}).
					Level(g.log.GetLevel()).With().Timestamp().Logger()
			}
			return classifySink(sink.Run(cmd.Context(), o))
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.URL, "url", "", "serve's WebSocket endpoint: ws://HOST:PORT/ws, or wss:// for TLS")
	f.StringVar(&o.Input, "input", o.Input, "a server that sends no wsbridge hello (a board's own WebSocket server, e.g. ws://esp32.local:81/) is read as: auto (per message), v1 (binary v1 packets), text (lines of numbers or name:value) or json ({\"value\": 1234})")
	f.StringVar(&o.Token, "token", "", "access token serve requires (sent as Authorization: Bearer); env WSBRIDGE_TOKEN")
	f.StringVar(&o.CACert, "ca-cert", "", "PEM certificate to trust for a wss:// server with a self-signed certificate")
	f.StringVar(&o.Virtual, "virtual", "", "create a virtual serial port (pty) with a symlink at this path, e.g. /tmp/ttyESP")
	f.StringVar(&o.VirtualGroup, "virtual-group", "", "let this group's members open the virtual port (mode 0660), for R running as another user")
	f.StringVar(&o.Port, "port", "", "write to this real serial port instead, e.g. /dev/ttyUSB1")
	f.IntVar(&o.Baud, "baud", o.Baud, "baud rate of --port (and the mode shown for R)")
	f.StringVar(&o.Format, "format", o.Format, "output: csv (one line per sample instant), plain (space separated), plotter (Arduino Serial Plotter), raw (the device's v1 COBS packets)")
	f.BoolVar(&o.Timestamps, "timestamps", false, "csv, plain: first column is the sample's device time in µs")
	f.BoolVar(&o.Header, "header", false, "csv: write a header line (channel names) first")
	f.StringVar(&o.LineEnding, "line-ending", o.LineEnding, "lf or crlf")
	f.IntVar(&o.Decimate, "decimate", o.Decimate, "keep every Nth sample instant (text formats)")
	f.DurationVar(&o.Buffer, "buffer", o.Buffer, "output buffer, in duration of stream, for when the port is not read fast enough")
	f.StringVar(&o.WhenFull, "when-full", o.WhenFull, "when the buffer is full: drop-oldest (keep recent data), drop-newest, or block (stop reading; serve's slow-client policy then applies)")
	f.BoolVar(&o.RepliesToPort, "replies-to-port", false, "also write command replies into the port as lines starting with '#' (raw: reply packets); default: log only")
	f.Var(&optBool{&o.GapLines}, "gap-lines", "write '# gap FROM..TO frames=N reason=R epoch=E' and '# restart epoch=E seq=S' lines into the port where data is missing: auto (on for csv and plain, off for plotter; raw never), true or false")
	f.Lookup("gap-lines").NoOptDefVal = "true"
	f.BoolVar(&o.RetryForever, "retry-forever", false, "keep retrying a server that refuses the sink for good (bad token, untrusted certificate, wrong path) instead of exiting with code 4")
	f.DurationVar(&o.StatusInterval, "status-interval", o.StatusInterval, "log a status line this often when stderr is not a terminal (0: never)")
	f.DurationVar(&o.PingInterval, "ping-interval", o.PingInterval, "ping serve this often; a silent server is dropped and redialled (0: off)")
	addCheck(cmd, s, o.Validate)
	return cmd
}

// liveTerminal returns a shared terminal for the live status line when
// stderr is a terminal and logs are not JSON.
func liveTerminal(g *globals, s Streams) *sink.LiveTerm {
	f, ok := s.Err.(*os.File)
	if !ok || !isatty.IsTerminal(f.Fd()) || g.LogFormat == "json" {
		return nil
	}
	return sink.NewLiveTerm(s.Err)
}

func classifySink(err error) error {
	switch {
	case errors.Is(err, sink.ErrOptions):
		return sentinel.Tag(err, ErrUsage)
	case errors.Is(err, sink.ErrOutput):
		return sentinel.Tag(err, ErrDevice)
	case errors.Is(err, sink.ErrServer):
		return sentinel.Tag(err, ErrNetwork)
	}
	return err
}

// optBool is a flag that is true, false or auto (nil: the command
// decides): --gap-lines, --gap-lines=false, --gap-lines=auto.
type optBool struct{ p **bool }

func (b *optBool) String() string {
	if b.p == nil || *b.p == nil {
		return "auto"
	}
	return strconv.FormatBool(**b.p)
}

func (b *optBool) Set(s string) error {
	if s == "auto" {
		*b.p = nil
		return nil
	}
	v, err := strconv.ParseBool(s)
	if err != nil {
		return fmt.Errorf("want true, false or auto")
	}
	*b.p = &v
	return nil
}

func (b *optBool) Type() string { return "auto|true|false" }
