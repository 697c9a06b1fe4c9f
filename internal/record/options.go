package record

import (
	"cmp"
	"crypto/tls"
	"fmt"
	"io"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/wsbridge/wsbridge/internal/wsclient"
)

// File formats (--format).
const (
	FormatAuto = "auto" // wav for i16, i32 and f32 streams at 8 kHz or more, csv otherwise
	FormatWAV  = "wav"
	FormatCSV  = "csv"
)

// Gap policies (--on-gap).
const (
	GapSplit = "split" // close the file at a gap; the next frame starts a new one
	GapZero  = "zero"  // fill the gap: silence in a wav, empty rows in a csv
	GapKeep  = "keep"  // write on: the file's samples skip the gap
)

// audioRate is the lowest rate --format auto writes as wav.
const audioRate = 8000

// Options configure a recording. Flag names (internal/cli/record.go) match
// the field comments.
type Options struct {
	URLs   []string    // --url, repeatable: serve's WebSocket endpoints (ws://HOST:PORT/ws/NAME)
	Dir    string      // --out DIR
	Token  string      // --token, sent as Authorization: Bearer
	CACert string      // --ca-cert PEM file trusted for wss://
	TLS    *tls.Config // instead of CACert (serve's own recorder pins its certificate)

	// Name, if set, is the file name prefix instead of the stream's
	// channel name (serve's recorder puts the channel and the labels in
	// it): letters, digits, '_', '.', '=', '-', at most 160, starting with
	// a letter or digit.
	Name string

	Format      string        // --format auto|wav|csv
	Labels      []string      // --label key=value, repeatable
	RotateEvery time.Duration // --rotate-every: start a new file after this much stream time (0: never)
	RotateSize  string        // --rotate-size: start a new file after this size, e.g. 100MB (empty: never)
	OnGap       string        // --on-gap split|zero|keep
	Duration    time.Duration // --duration: stop after this much stream time per URL (0: until stopped)
	JSON        bool          // --json: final summary as JSON

	Out io.Writer // the summary (stdout)
	Log zerolog.Logger

	// Since, if valid, is where each URL's first connection starts
	// (?since=SEQ&epoch=E): serve's recorder starts at the frame after the
	// one the channel had when asked. The zero value starts live.
	Since wsclient.Position

	// Progress, if set, is called by each stream's writer goroutine after
	// every flush (FlushInterval) and once more when the stream ends
	// (Done), with what it has recorded so far. It must not block.
	Progress func(Progress)

	// FlushInterval is how often data, the WAV header and the sidecar are
	// written out (default 250ms): what a crash can lose at most.
	FlushInterval time.Duration
	// BackoffMin and BackoffMax bound the reconnect delay (250ms, 10s).
	BackoffMin, BackoffMax time.Duration

	labels     map[string]string
	rotateSize int64
}

// DefaultOptions returns the defaults the command line starts from.
func DefaultOptions() Options {
	return Options{Format: FormatAuto, OnGap: GapSplit, FlushInterval: 250 * time.Millisecond,
		BackoffMin: 250 * time.Millisecond, BackoffMax: 10 * time.Second}
}

// Validate checks the options and fills zero values with defaults. Errors
// name the flag and wrap ErrOptions.
func (o *Options) Validate() error {
	d := DefaultOptions()
	o.Format = cmp.Or(o.Format, d.Format)
	o.OnGap = cmp.Or(o.OnGap, d.OnGap)
	o.FlushInterval = cmp.Or(o.FlushInterval, d.FlushInterval)
	o.BackoffMin = cmp.Or(o.BackoffMin, d.BackoffMin)
	o.BackoffMax = cmp.Or(o.BackoffMax, d.BackoffMax)
	if o.Out == nil {
		o.Out = io.Discard
	}
	for _, check := range []func() error{o.checkURLs, o.checkOut, o.checkFormat, o.checkLabels} {
		if err := check(); err != nil {
			return fmt.Errorf("%w: %w", ErrOptions, err)
		}
	}
	return nil
}

func (o *Options) checkURLs() error {
	if len(o.URLs) == 0 {
		return fmt.Errorf("--url is required, e.g. --url ws://sensor-host:8080/ws/mic (repeat it to record several streams)")
	}
	seen := map[string]bool{}
	for i, s := range o.URLs {
		u, err := wsclient.ParseURL(s, "/ws")
		if err != nil {
			return err
		}
		if o.CACert != "" && !strings.HasPrefix(u, "wss://") {
			return fmt.Errorf("--ca-cert needs wss:// URLs, got %q", s)
		}
		if seen[u] {
			return fmt.Errorf("--url %q is given twice", s)
		}
		seen[u] = true
		o.URLs[i] = u
	}
	return nil
}

func (o *Options) checkOut() error {
	if o.Dir == "" {
		return fmt.Errorf("--out DIR is required: the directory the recordings go to")
	}
	if fi, err := os.Stat(o.Dir); err == nil && !fi.IsDir() {
		return fmt.Errorf("--out %s is a file, not a directory", o.Dir)
	}
	if o.Name != "" && (!fileName.MatchString(o.Name) || strings.Contains(o.Name, "..")) {
		return fmt.Errorf("file name prefix %q: want 1 to 160 letters, digits, '_', '.', '=' or '-', starting with a letter or digit", o.Name)
	}
	return nil
}

var fileName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.=-]{0,159}$`)

func (o *Options) checkFormat() error {
	switch o.Format {
	case FormatAuto, FormatWAV, FormatCSV:
	default:
		return fmt.Errorf("--format %q: want auto, wav or csv", o.Format)
	}
	switch o.OnGap {
	case GapSplit, GapZero, GapKeep:
	default:
		return fmt.Errorf("--on-gap %q: want split, zero or keep", o.OnGap)
	}
	if o.RotateEvery < 0 || o.Duration < 0 {
		return fmt.Errorf("--rotate-every and --duration must not be negative")
	}
	if o.RotateEvery > 0 && o.RotateEvery < 100*time.Millisecond {
		return fmt.Errorf("--rotate-every %s: want at least 100ms", o.RotateEvery)
	}
	o.rotateSize = 0
	if o.RotateSize != "" {
		n, err := parseSize(o.RotateSize)
		if err != nil {
			return fmt.Errorf("--rotate-size %q: %v", o.RotateSize, err)
		}
		if n < 64<<10 {
			return fmt.Errorf("--rotate-size %q: want at least 64KiB", o.RotateSize)
		}
		o.rotateSize = n
	}
	return nil
}

// LabelKey is what a label's key may be (--label, and serve's recordings).
var LabelKey = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,64}$`)

func (o *Options) checkLabels() error {
	o.labels = map[string]string{}
	for _, l := range o.Labels {
		k, v, ok := strings.Cut(l, "=")
		if !ok || !LabelKey.MatchString(k) {
			return fmt.Errorf("--label %q: want key=value, the key of letters, digits, '_', '.' or '-'", l)
		}
		if _, dup := o.labels[k]; dup {
			return fmt.Errorf("--label %q: key %q is given twice", l, k)
		}
		o.labels[k] = v
	}
	return nil
}

// parseSize reads a byte count: 1048576, 500k, 100MB, 1GiB (k, M, G are
// powers of 1000 with B or alone; KiB, MiB, GiB powers of 1024).
func parseSize(s string) (int64, error) {
	t := strings.TrimSpace(s)
	i := len(t)
	for i > 0 && (t[i-1] < '0' || t[i-1] > '9') {
		i--
	}
	n, err := strconv.ParseFloat(strings.TrimSpace(t[:i]), 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("not a size: want e.g. 100MB, 1GiB or 500000")
	}
	mult := map[string]float64{"": 1, "b": 1, "k": 1e3, "kb": 1e3, "m": 1e6, "mb": 1e6, "g": 1e9, "gb": 1e9,
		"kib": 1 << 10, "mib": 1 << 20, "gib": 1 << 30}[strings.ToLower(strings.TrimSpace(t[i:]))]
	if mult == 0 {
		return 0, fmt.Errorf("unknown unit %q: want B, kB, MB, GB, KiB, MiB or GiB", t[i:])
	}
	return int64(n * mult), nil
}

// safeURL is u without a token in its query, for logs and sidecars.
func safeURL(u string) string { return wsclient.DisplayURL(u) }
