package cli

import (
	"errors"

	"github.com/spf13/cobra"

	"github.com/wsbridge/wsbridge/internal/record"
	"github.com/wsbridge/wsbridge/internal/sentinel"
	"github.com/wsbridge/wsbridge/internal/wsclient"
)

func newRecord(g *globals, s Streams) *cobra.Command {
	o := record.DefaultOptions()
	cmd := &cobra.Command{
		Use:   "record",
		Short: "Record serve streams to WAV or CSV files with a JSON sidecar each (training sets)",
		Long: `record connects to one or more serve streams and writes what arrives to files a
model pipeline reads: WAV for audio-like streams (i16, i32 and f32 at 8 kHz or
more), CSV (device time in µs, then one column per channel) otherwise, and a
JSON sidecar per file naming the device, the epoch and seq range, every gap
with its range and reason, and your labels.

It reconnects and resumes where it stopped like the sink, so a drop shorter
than serve's --history loses nothing; a gap splits the file (--on-gap split),
is filled (zero) or skipped (keep), and is always in the sidecar. A WAV's
header is rewritten on every flush (250 ms), so the file plays while it is
being written and after a crash; Ctrl-C or SIGTERM closes every file cleanly.

Examples:
  wsbridge record --url ws://sensor:8080/ws/mic --out data/ --label speaker=ann --label word=yes --duration 2s
  wsbridge record --url ws://sensor:8080/ws/mic --url ws://sensor:8080/ws/accel --out data/ --rotate-every 10m`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o.Out, o.Log, o.JSON = s.Out, g.log, g.JSON
			_, err := record.Run(cmd.Context(), o)
			return classifyRecord(err)
		},
	}
	f := cmd.Flags()
	f.StringArrayVar(&o.URLs, "url", nil, "serve's WebSocket stream, e.g. ws://HOST:8080/ws/mic; repeat to record several at once")
	f.StringVar(&o.Dir, "out", "", "directory for the recordings (created if missing)")
	f.StringVar(&o.Token, "token", "", "access token serve requires (sent as Authorization: Bearer); env WSBRIDGE_TOKEN")
	f.StringVar(&o.CACert, "ca-cert", "", "PEM certificate to trust for wss:// servers with a self-signed certificate")
	f.StringVar(&o.Format, "format", o.Format, "auto (wav for i16/i32/f32 at 8 kHz or more, csv otherwise), wav or csv")
	f.StringArrayVar(&o.Labels, "label", nil, "key=value written into every sidecar's labels; repeatable")
	f.DurationVar(&o.RotateEvery, "rotate-every", 0, "start a new file after this much stream time, e.g. 10m (0: never)")
	f.StringVar(&o.RotateSize, "rotate-size", "", "start a new file after this size, e.g. 100MB or 1GiB (default: never; a WAV rotates before 4 GiB)")
	f.StringVar(&o.OnGap, "on-gap", o.OnGap, "at a gap: split (new file), zero (fill: silence in wav, empty rows in csv) or keep (write on)")
	f.DurationVar(&o.Duration, "duration", 0, "stop after recording this much stream time from each URL, e.g. 30s (0: until Ctrl-C)")
	addCheck(cmd, s, o.Validate)
	return cmd
}

// classifyRecord gives record's errors their exit codes (README, "Exit
// codes"): bad options 2, a server that refuses the recorder for good 4,
// files that cannot be written 1.
func classifyRecord(err error) error {
	switch {
	case errors.Is(err, record.ErrOptions):
		return sentinel.Tag(err, ErrUsage)
	case wsclient.Permanent(err):
		return sentinel.Tag(err, ErrNetwork)
	}
	return err
}
