package relay

import (
	"net/http"
	"time"

	"github.com/rs/zerolog"

	"github.com/wsbridge/wsbridge/internal/source"
)

// Slow-client policies (--slow-client).
const (
	SlowSkip  = "skip"  // send a slow_client gap and jump to the oldest frame still held
	SlowClose = "close" // close the connection with 1008 (policy violation)
)

// Options configure the relay. Field names follow the serve flags.
type Options struct {
	Listen        string        // --listen host:port (default 127.0.0.1:8080)
	History       time.Duration // --history: sample time the ring keeps for resuming clients
	HistoryBytes  int64         // --history-bytes: hard cap on each channel's history, in bytes of memory
	SlowClient    string        // --slow-client skip|close
	PingInterval  time.Duration // --ping-interval: keepalive; a dead peer is dropped within ~2 intervals
	WriteTimeout  time.Duration // --write-timeout: deadline of each write to a client
	MaxClients    int           // --max-clients: WebSocket clients beyond it get HTTP 503
	Token         string        // --token: required on /ws, /api/* and /metrics when set
	AllowOrigin   []string      // --allow-origin: extra Origin host patterns (path.Match syntax)
	AllowHost     []string      // --allow-host: extra names requests may carry in Host (path.Match syntax; "*" any)
	TLSCert       string        // --tls-cert: PEM certificate; with TLSKey serves https/wss
	TLSKey        string        // --tls-key
	AllowCommands bool          // --allow-commands: forward client commands to the device

	Page http.Handler // served at /; nil serves a placeholder page
	Log  zerolog.Logger
}

// Commander writes a command line to a channel's device. Every
// source.Source implements it. Command must be safe for concurrent use.
type Commander interface {
	Command(line string) error
}

// Counter is one counter reported by /metrics and /api/*. Name is the
// metric name without the wsbridge_ prefix (e.g. "serial_bytes_total").
type Counter = source.Counter

// DefaultOptions returns the documented defaults.
func DefaultOptions() Options {
	return Options{
		Listen:       "127.0.0.1:8080",
		History:      30 * time.Second,
		HistoryBytes: 256 << 20,
		SlowClient:   SlowSkip,
		PingInterval: 10 * time.Second,
		WriteTimeout: 10 * time.Second,
		MaxClients:   64,
		Log:          zerolog.Nop(),
	}
}

// Validate checks the options, naming the flag at fault.
func (o *Options) Validate() error {
	switch {
	case o.History <= 0:
		return optionsErr("--history must be positive, got %v", o.History)
	case o.HistoryBytes < 1<<16:
		return optionsErr("--history-bytes must be at least 65536, got %d", o.HistoryBytes)
	case o.SlowClient != SlowSkip && o.SlowClient != SlowClose:
		return optionsErr("--slow-client %q: want skip or close", o.SlowClient)
	case o.PingInterval <= 0:
		return optionsErr("--ping-interval must be positive, got %v", o.PingInterval)
	case o.WriteTimeout <= 0:
		return optionsErr("--write-timeout must be positive, got %v", o.WriteTimeout)
	case o.MaxClients < 1:
		return optionsErr("--max-clients must be at least 1, got %d", o.MaxClients)
	case (o.TLSCert == "") != (o.TLSKey == ""):
		return optionsErr("--tls-cert and --tls-key go together")
	}
	if err := checkOriginPatterns(o.AllowOrigin); err != nil {
		return err
	}
	return checkHostPatterns(o.AllowHost)
}

// channelNameRule says what a channel name may be.
const channelNameRule = "want 1 to 32 lower-case letters, digits, - or _, starting with a letter or digit (e.g. mic, accel-2)"

// ValidChannelName reports whether name matches ^[a-z0-9][a-z0-9_-]{0,31}$:
// short, URL-safe, usable as a Prometheus label value as it is.
func ValidChannelName(name string) bool {
	if name == "" || len(name) > 32 {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		ok := c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || i > 0 && (c == '-' || c == '_')
		if !ok {
			return false
		}
	}
	return true
}
