package sink

import (
	"cmp"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/wsbridge/wsbridge/internal/frame"
	"github.com/wsbridge/wsbridge/internal/wsclient"
)

// Output formats written to the port.
const (
	FormatCSV     = "csv"
	FormatPlain   = "plain"
	FormatPlotter = "plotter"
	FormatRaw     = "raw"
)

// Policies for a full output buffer (--when-full).
const (
	DropOldest = "drop-oldest" // keep the newest data: what R gets when it starts late
	DropNewest = "drop-newest" // keep the oldest data, discard what arrives
	Block      = "block"       // stop reading the WebSocket; serve's slow-client policy applies
)

// Options configure a sink. Flag names (internal/cli/sink.go) match the
// field comments.
type Options struct {
	URL string // --url ws://HOST:PORT/ws or wss://..., or a board's own ws://esp32.local:81/
	// Input (--input) is how a server that sends no hello (a board's own
	// WebSocket server) is read: auto, v1, text or json.
	Input  string
	Token  string // --token, sent as Authorization: Bearer
	CACert string // --ca-cert PEM file trusted for wss://

	Port    string // --port: a real serial port
	Baud    int    // --baud: real port speed; shown in the R recipe for a virtual port
	Virtual string // --virtual PATH: a pty with a symlink at PATH
	// VirtualGroup (--virtual-group) lets members of this group open the
	// pty (mode 0660): for R running as another user than the sink.
	VirtualGroup string

	Format        string        // --format csv|plain|plotter|raw
	Timestamps    bool          // --timestamps: device time column (csv, plain)
	Header        bool          // --header: a csv header line first
	LineEnding    string        // --line-ending lf|crlf
	Decimate      int           // --decimate N: keep every Nth sample instant
	Buffer        time.Duration // --buffer: output queue, in duration of stream
	WhenFull      string        // --when-full drop-oldest|drop-newest|block
	RepliesToPort bool          // --replies-to-port: replies also as '#' lines (raw: reply packets)
	// GapLines (--gap-lines) writes "# gap ..." and "# restart ..." lines
	// into the port in order with the data; nil: on for csv and plain,
	// off for plotter; raw never has them (its frames carry their seq).
	GapLines *bool
	// RetryForever (--retry-forever) keeps retrying a server that refuses
	// the sink for good (bad token, untrusted certificate, wrong path).
	RetryForever bool

	StatusInterval time.Duration // --status-interval: a log line every so often (0: none)
	PingInterval   time.Duration // --ping-interval: keepalive; a dead server is detected within 2x this
	JSON           bool          // --json: final summary as JSON

	Out  io.Writer // results: how to open the port, the final summary (stdout)
	Live *LiveTerm // non-nil: a one-line live status redrawn with \r (a terminal)
	Log  zerolog.Logger

	// BackoffMin and BackoffMax bound the reconnect delay (defaults 250ms, 10s).
	BackoffMin, BackoffMax time.Duration
	// MaxBufferBytes caps the memory the output queue holds whatever
	// --buffer says (default 64 MiB): each chunk's buffer and bookkeeping.
	MaxBufferBytes int
	// MaxBufferEntries caps the chunks queued (default 65536): frames of
	// 0 samples last 0 s and render to nothing, so time and bytes alone
	// would not bound them.
	MaxBufferEntries int
	// FlushTimeout bounds the final flush on shutdown (default 2s).
	FlushTimeout time.Duration
	// Ready, if set, is called once the output port exists (tests use it).
	Ready func(PortInfo)

	onSink func(*Sink) // tests: the running sink
	paused func() bool // the producer waits for room: pings pause (set by newSink)
}

// DefaultOptions returns the defaults the command line starts from.
func DefaultOptions() Options {
	return Options{
		Input: InputAuto, Baud: 921600, Format: FormatCSV, LineEnding: "lf", Decimate: 1, Buffer: 5 * time.Second,
		WhenFull: DropOldest, StatusInterval: 10 * time.Second, PingInterval: 5 * time.Second,
		BackoffMin: 250 * time.Millisecond, BackoffMax: 10 * time.Second,
		MaxBufferBytes: 64 << 20, MaxBufferEntries: 1 << 16, FlushTimeout: 2 * time.Second,
	}
}

// Validate checks the options and fills zero values with defaults. Errors
// name the flag and wrap ErrOptions.
func (o *Options) Validate() error {
	d := DefaultOptions()
	o.Baud = cmp.Or(o.Baud, d.Baud)
	o.Decimate = cmp.Or(o.Decimate, d.Decimate)
	o.MaxBufferBytes = cmp.Or(o.MaxBufferBytes, d.MaxBufferBytes)
	o.MaxBufferEntries = cmp.Or(o.MaxBufferEntries, d.MaxBufferEntries)
	o.BackoffMin = cmp.Or(o.BackoffMin, d.BackoffMin)
	o.BackoffMax = cmp.Or(o.BackoffMax, d.BackoffMax)
	o.FlushTimeout = cmp.Or(o.FlushTimeout, d.FlushTimeout)
	o.Buffer = cmp.Or(o.Buffer, d.Buffer)
	o.Format = cmp.Or(o.Format, d.Format)
	o.Input = cmp.Or(o.Input, d.Input)
	o.LineEnding = cmp.Or(o.LineEnding, d.LineEnding)
	o.WhenFull = cmp.Or(o.WhenFull, d.WhenFull)
	if o.Out == nil {
		o.Out = io.Discard
	}
	for _, check := range []func() error{o.checkURL, o.checkPort, o.checkFormat, o.checkBuffer} {
		if err := check(); err != nil {
			return fmt.Errorf("%w: %w", ErrOptions, err)
		}
	}
	return nil
}

func (o *Options) checkURL() error {
	u, err := wsclient.ParseURL(o.URL, "/ws")
	if err != nil {
		return err
	}
	if o.CACert != "" && !strings.HasPrefix(u, "wss://") {
		return fmt.Errorf("--ca-cert needs a wss:// --url")
	}
	o.URL = u
	return nil
}

func (o *Options) checkPort() error {
	switch {
	case o.Port == "" && o.Virtual == "":
		return fmt.Errorf("say where to write: --virtual PATH (a virtual serial port for R) or --port /dev/ttyUSB1")
	case o.Port != "" && o.Virtual != "":
		return fmt.Errorf("--port and --virtual are exclusive: use one")
	case o.VirtualGroup != "" && o.Virtual == "":
		return fmt.Errorf("--virtual-group applies to --virtual")
	case o.Baud < 50 || o.Baud > 20_000_000:
		return fmt.Errorf("--baud %d out of range 50..20000000", o.Baud)
	}
	return nil
}

func (o *Options) checkFormat() error {
	switch o.Format {
	case FormatCSV, FormatPlain, FormatPlotter, FormatRaw:
	default:
		return fmt.Errorf("--format %q: want csv, plain, plotter or raw", o.Format)
	}
	switch o.Input {
	case InputAuto, InputV1, InputText, InputJSON:
	default:
		return fmt.Errorf("--input %q: want auto, v1, text or json", o.Input)
	}
	if o.LineEnding != "lf" && o.LineEnding != "crlf" {
		return fmt.Errorf("--line-ending %q: want lf or crlf", o.LineEnding)
	}
	if o.Decimate < 1 {
		return fmt.Errorf("--decimate %d: want 1 (every sample) or more", o.Decimate)
	}
	if o.Format == FormatRaw && (o.Decimate > 1 || o.Timestamps || o.Header) {
		return fmt.Errorf("--format raw carries the device's packets unchanged: --decimate, --timestamps and --header apply to text formats")
	}
	if o.Header && o.Format != FormatCSV {
		return fmt.Errorf("--header applies to --format csv")
	}
	if o.Format == FormatRaw && o.GapLines != nil && *o.GapLines {
		return fmt.Errorf("--gap-lines applies to text formats: in --format raw every frame carries its sequence number")
	}
	return nil
}

// gapLines reports whether gap and restart lines go into the port.
func (o *Options) gapLines() bool {
	if o.GapLines != nil {
		return *o.GapLines && o.Format != FormatRaw
	}
	return o.Format == FormatCSV || o.Format == FormatPlain
}

func (o *Options) checkBuffer() error {
	switch o.WhenFull {
	case DropOldest, DropNewest, Block:
	default:
		return fmt.Errorf("--when-full %q: want drop-oldest, drop-newest or block", o.WhenFull)
	}
	if o.Buffer < 10*time.Millisecond || o.Buffer > 10*time.Minute {
		return fmt.Errorf("--buffer %s out of range 10ms..10m", o.Buffer)
	}
	if o.StatusInterval < 0 || o.PingInterval < 0 {
		return fmt.Errorf("--status-interval and --ping-interval must not be negative")
	}
	return nil
}

// shownURL is --url as printed: without a token.
func (o *Options) shownURL() string { return wsclient.DisplayURL(o.URL) }

// clientOptions configure the WebSocket client.
func (o *Options) clientOptions() wsclient.Options {
	ping := o.PingInterval
	if ping == 0 {
		ping = -1 // off
	}
	return wsclient.Options{URL: o.URL, Token: o.Token, CACert: o.CACert, Format: "binary",
		AnyServer:    true, // a board's own server sends no hello (--input)
		PingInterval: ping, BackoffMin: o.BackoffMin, BackoffMax: o.BackoffMax, RetryForever: o.RetryForever,
		Paused: o.paused, Log: o.Log}
}

// textOptions are the frame renderer's options for o.
func (o *Options) textOptions() frame.TextOptions {
	return frame.TextOptions{CRLF: o.LineEnding == "crlf", Timestamps: o.Timestamps}
}
