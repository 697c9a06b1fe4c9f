package wifisim

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/wsbridge/wsbridge/internal/adcsim"
	"github.com/wsbridge/wsbridge/internal/frame"
	"github.com/wsbridge/wsbridge/internal/ingest"
)

// Publish formats: what the board sends.
const (
	FormatV1   = "v1"   // binary v1 packets through the resend ring (the reference firmware)
	FormatText = "text" // text lines of numbers, one message per frame, nothing resent
	FormatJSON = "json" // JSON objects {"ch0": 1234}, one message per frame, nothing resent (the tutorials)
)

// Options configure a Board. Field comments name the `wsbridge sim` flag.
type Options struct {
	Device adcsim.Config // the simulated ADC (the sim flags)
	URL    string        // --publish: ws://host:port/pub/NAME or wss://...
	Token  string        // --token: the device's token
	// Boot names this run of the board (--boot); "" picks 8 random hex
	// digits, as the firmware does with esp_random() at power-up.
	Boot      string
	Format    string // --publish-format: v1, text or json
	RingBytes int    // --ring-bytes: the resend ring (v1)
	// ReconnectInterval is the fixed wait after a failed connect or a
	// disconnect (--reconnect-interval; arduinoWebSockets' default 500 ms).
	ReconnectInterval time.Duration
	Heartbeat         Heartbeat
	// SendTimeout: a send blocked this long drops the connection
	// (arduinoWebSockets' WEBSOCKETS_TCP_TIMEOUT, 5 s). It also bounds the
	// connect and the wait for the greeting.
	SendTimeout time.Duration
	CACert      string // --ca-cert: PEM file of the CA that signed serve's certificate (wss)
	// Via dials this host:port instead of the URL's, keeping the URL's Host
	// (a proxy in tests). The faults set it to their own proxy.
	Via    string
	Faults Faults
	// Stamp, if set, gives each data frame a new t_dev_us when the frame
	// is made (benchmarks: latency against one clock); it sees the frame.
	Stamp func(f *frame.Frame) uint64
	Log   zerolog.Logger
}

// Heartbeat is arduinoWebSockets' enableHeartbeat(interval, timeout,
// failures): a ping every Interval; Failures pongs missing for Timeout
// each drop the connection. Interval 0 disables it.
type Heartbeat struct {
	Interval time.Duration // --heartbeat-interval
	Timeout  time.Duration // --heartbeat-timeout
	Failures int           // --heartbeat-failures
}

// Faults are network faults the board injects on its own connection
// through an in-process faultproxy.
type Faults struct {
	CutEvery   time.Duration // --cut-every: reset the connection this often
	StallEvery time.Duration // --stall-every: hold all traffic this often...
	StallFor   time.Duration // --stall-for: ...for this long (a Wi-Fi hiccup)
	StormEvery time.Duration // --storm-every: this often, cut StormCuts times in a row,
	StormCuts  int           // --storm-cuts: each right after the board reconnected
}

// Any reports whether a fault is configured.
func (f *Faults) Any() bool { return f.CutEvery > 0 || f.StallEvery > 0 || f.StormEvery > 0 }

// DefaultOptions are the `sim --publish` defaults.
func DefaultOptions() Options {
	return Options{Device: adcsim.DefaultConfig(), Format: FormatV1, RingBytes: 64 << 10,
		ReconnectInterval: 500 * time.Millisecond, SendTimeout: 5 * time.Second,
		Heartbeat: Heartbeat{Timeout: 3 * time.Second, Failures: 2},
		Faults:    Faults{StallFor: 300 * time.Millisecond, StormCuts: 5}, Log: zerolog.Nop()}
}

// Validate checks the options, naming each flag at fault.
func (o *Options) Validate() error {
	var errs []error
	add := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	if u, err := url.Parse(o.URL); err != nil || (u.Scheme != "ws" && u.Scheme != "wss") || u.Host == "" ||
		!strings.HasPrefix(u.Path, "/pub/") || len(u.Path) == len("/pub/") {
		add("publish: want ws://HOST:PORT/pub/NAME or wss://..., got %q", o.URL)
	}
	if err := ingest.CheckBoot(o.Boot); err != nil {
		add("boot: %v", err)
	}
	switch o.Format {
	case FormatV1, FormatText, FormatJSON:
	default:
		add("publish-format: want v1, text or json, got %q", o.Format)
	}
	if o.Format == FormatV1 && o.RingBytes < 1024 {
		add("ring-bytes: at least 1024, got %d", o.RingBytes)
	}
	if o.ReconnectInterval <= 0 {
		add("reconnect-interval: must be positive, got %s", o.ReconnectInterval)
	}
	if o.SendTimeout <= 0 {
		add("send-timeout: must be positive, got %s", o.SendTimeout)
	}
	if h := o.Heartbeat; h.Interval < 0 || h.Interval > 0 && (h.Timeout <= 0 || h.Failures < 1) {
		add("heartbeat: interval %s, timeout %s, failures %d: want interval 0 (off), or a positive timeout and at least 1 failure", h.Interval, h.Timeout, h.Failures)
	}
	if f := o.Faults; f.CutEvery < 0 || f.StallEvery < 0 || f.StormEvery < 0 || f.StallEvery > 0 && f.StallFor <= 0 ||
		f.StormEvery > 0 && f.StormCuts < 1 {
		add("faults: durations must be positive, stalls need --stall-for and storms --storm-cuts >= 1")
	}
	if o.Device.Wire != adcsim.WireFrames {
		add("wire: a Wi-Fi board makes frames; choose what it sends with --publish-format")
	}
	if err := o.Device.Validate(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// DisplayURL is u without a token query parameter, for printing.
func DisplayURL(u string) string {
	p, err := url.Parse(u)
	if err != nil || !p.Query().Has("token") {
		return u
	}
	q := p.Query()
	q.Set("token", "REDACTED")
	p.RawQuery = q.Encode()
	return p.String()
}
