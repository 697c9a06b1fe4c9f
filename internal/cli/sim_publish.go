package cli

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/wsbridge/wsbridge/internal/adcsim"
	"github.com/wsbridge/wsbridge/internal/result"
	"github.com/wsbridge/wsbridge/internal/sentinel"
	"github.com/wsbridge/wsbridge/internal/wifisim"
)

// bindPublishFlags binds the flags of a simulated Wi-Fi board
// (`sim --publish`).
func bindPublishFlags(cmd *cobra.Command, p *wifisim.Options) {
	f := cmd.Flags()
	f.StringVar(&p.URL, "publish", p.URL, "be a Wi-Fi board: publish to serve's ws://HOST:PORT/pub/NAME (or wss://) instead of a serial port")
	f.StringVar(&p.Token, "token", p.Token, "--publish: the device's token (devices[].token in serve's config); prefer WSBRIDGE_TOKEN to the command line")
	f.StringVar(&p.Boot, "boot", p.Boot, "--publish: boot id of this run (1..32 of A-Z a-z 0-9 _ -); default random, as firmware picks at power-up")
	f.StringVar(&p.Format, "publish-format", p.Format, "--publish: v1 (binary frames through the resend ring), text (lines) or json ({\"ch0\": 1234}, as the tutorials' sketches)")
	f.IntVar(&p.RingBytes, "ring-bytes", p.RingBytes, "--publish: the resend ring in bytes (firmware RAM; 65536 = 2 s of 16 kHz i16 mono)")
	f.DurationVar(&p.ReconnectInterval, "reconnect-interval", p.ReconnectInterval, "--publish: fixed wait before reconnecting (arduinoWebSockets' setReconnectInterval)")
	f.DurationVar(&p.Heartbeat.Interval, "heartbeat-interval", p.Heartbeat.Interval, "--publish: ping serve this often, 0 = off (enableHeartbeat)")
	f.DurationVar(&p.Heartbeat.Timeout, "heartbeat-timeout", p.Heartbeat.Timeout, "--publish: a pong missing after this long is a failure")
	f.IntVar(&p.Heartbeat.Failures, "heartbeat-failures", p.Heartbeat.Failures, "--publish: failures in a row that drop the connection")
	f.StringVar(&p.CACert, "ca-cert", p.CACert, "--publish: PEM file of the CA that signed serve's certificate (wss://)")
	f.DurationVar(&p.Faults.CutEvery, "cut-every", p.Faults.CutEvery, "--publish fault: reset the connection this often (through an in-process proxy)")
	f.DurationVar(&p.Faults.StallEvery, "stall-every", p.Faults.StallEvery, "--publish fault: hold all traffic this often...")
	f.DurationVar(&p.Faults.StallFor, "stall-for", p.Faults.StallFor, "--publish fault: ...for this long (a Wi-Fi hiccup)")
	f.DurationVar(&p.Faults.StormEvery, "storm-every", p.Faults.StormEvery, "--publish fault: this often, a reconnect storm...")
	f.IntVar(&p.Faults.StormCuts, "storm-cuts", p.Faults.StormCuts, "--publish fault: ...of this many cuts, each right after the board reconnected")
}

// runPublish runs the simulated Wi-Fi board until ctx ends and prints what
// it did.
func runPublish(ctx context.Context, g *globals, s Streams, o adcsim.Options, p wifisim.Options) error {
	p.Device, p.Log = o.Config, g.log
	if o.Link != "" || o.Stdout {
		return Usagef("--publish sends over the network: --link and --stdout do not apply")
	}
	b, err := wifisim.New(p)
	if err != nil {
		return sentinel.Tag(err, ErrUsage)
	}
	if err := result.Print(s.Out, g.JSON, publishing{URL: wifisim.DisplayURL(p.URL), Boot: b.Boot()}); err != nil {
		return err
	}
	err = b.Run(ctx)
	if perr := result.Print(s.Out, g.JSON, publishSummary(b.Stats())); perr != nil && err == nil {
		err = perr
	}
	if err != nil && !errors.Is(err, context.Canceled) {
		return sentinel.Tag(err, ErrDevice)
	}
	return nil
}

// publishing is what sim --publish prints when it starts.
type publishing struct {
	URL  string `json:"publish"`
	Boot string `json:"boot"`
}

func (p publishing) String() string {
	return "wsbridge sim: publishing to " + p.URL + " as boot " + p.Boot
}

// publishSummary is what sim --publish prints when it stops.
type publishSummary wifisim.Stats

func (s publishSummary) String() string {
	return fmt.Sprintf("wsbridge sim: %d frames made, %d sent, %d resent after reconnects, %d lost (%d overwritten in the ring before they were sent, %d of them while connected: a slow link; %d sent into a dropped connection; %d drops longer than the ring); %d connections, %d failed attempts",
		s.Device.Frames, s.Ring.Sent, s.Ring.Resent, s.Ring.Overwritten+s.Ring.Lost, s.Ring.Overwritten, s.Overrun, s.Ring.Lost, s.ResumeGaps, s.Connects, s.ConnectFailures)
}
