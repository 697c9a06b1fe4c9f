package sink

import (
	"fmt"
	"io"
	"net/url"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/wsbridge/wsbridge/internal/frame"
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
	URL    string // --url ws://HOST:PORT/ws or wss://...
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

	StatusInterval time.Duration // --status-interval: a log line every so often (0: none)
	PingInterval   time.Duration // --ping-interval: keepalive; a dead server is detected within 2x this
	JSON           bool          // --json: final summary as JSON

	Out  io.Writer // results: how to open the port, the final summary (stdout)
	Live *LiveTerm // non-nil: a one-line live status redrawn with \r (a terminal)
	Log  zerolog.Logger

	// BackoffMin and BackoffMax bound the reconnect delay (defaults 250ms, 10s).
	BackoffMin, BackoffMax time.Duration
	// MaxBufferBytes caps the output queue in bytes whatever --buffer says (default 64 MiB).
	MaxBufferBytes int
	// FlushTimeout bounds the final flush on shutdown (default 2s).
	FlushTimeout time.Duration
	// Ready, if set, is called once the output port exists (tests use it).
	Ready func(PortInfo)

	onSink func(*Sink) // tests: the running sink
}

// DefaultOptions returns the defaults the command line starts from.
func DefaultOptions() Options {
	return Options{
		Baud: 921600, Format: FormatCSV, LineEnding: "lf", Decimate: 1, Buffer: 5 * time.Second,
		WhenFull: DropOldest, StatusInterval: 10 * time.Second, PingInterval: 5 * time.Second,
		BackoffMin: 250 * time.Millisecond, BackoffMax: 10 * time.Second,
		MaxBufferBytes: 64 << 20, FlushTimeout: 2 * time.Second,
	}
}

// Validate checks the options and fills zero values with defaults. Errors
// name the flag and wrap ErrOptions.
func (o *Options) Validate() error {
	d := DefaultOptions()
	fill(&o.Baud, d.Baud)
	fill(&o.Decimate, d.Decimate)
	fill(&o.MaxBufferBytes, d.MaxBufferBytes)
	fill(&o.BackoffMin, d.BackoffMin)
	fill(&o.BackoffMax, d.BackoffMax)
	fill(&o.FlushTimeout, d.FlushTimeout)
	fill(&o.Buffer, d.Buffer)
	fill(&o.Format, d.Format)
	fill(&o.LineEnding, d.LineEnding)
	fill(&o.WhenFull, d.WhenFull)
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

func fill[T comparable](v *T, def T) {
	var zero T
	if *v == zero {
		*v = def
	}
}

func (o *Options) checkURL() error {
	if o.URL == "" {
		return fmt.Errorf("--url is required, e.g. --url ws://sensor-host:8080/ws")
	}
	u, err := url.Parse(o.URL)
	if err != nil {
		return fmt.Errorf("--url %q: %v", o.URL, err)
	}
	switch u.Scheme {
	case "ws", "wss":
	case "http", "https":
		u.Scheme = strings.Replace(u.Scheme, "http", "ws", 1)
	default:
		return fmt.Errorf("--url %q: scheme must be ws:// or wss://", o.URL)
	}
	if u.Host == "" {
		return fmt.Errorf("--url %q: no host, e.g. ws://127.0.0.1:8080/ws", o.URL)
	}
	if u.Path == "" || u.Path == "/" {
		u.Path = "/ws"
	}
	if o.CACert != "" && u.Scheme != "wss" {
		return fmt.Errorf("--ca-cert needs a wss:// --url")
	}
	o.URL = u.String()
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
	return nil
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

// safeURL is --url with a token in the query hidden, for logs and output.
func (o *Options) safeURL() string {
	u, err := url.Parse(o.URL)
	if err != nil || !u.Query().Has("token") {
		return o.URL
	}
	q := u.Query()
	q.Set("token", "REDACTED")
	u.RawQuery = q.Encode()
	return u.String()
}

// textOptions are the frame renderer's options for o.
func (o *Options) textOptions() frame.TextOptions {
	return frame.TextOptions{CRLF: o.LineEnding == "crlf", Timestamps: o.Timestamps}
}
