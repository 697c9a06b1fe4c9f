package wsclient

import (
	"cmp"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/wsbridge/wsbridge/internal/wsproto"
)

// Options configure a Client. Zero durations take the defaults below.
type Options struct {
	URL    string // ws:// or wss:// endpoint, as ParseURL returns it
	Token  string // sent as Authorization: Bearer (never in the URL)
	CACert string // PEM file of certificates to trust for wss://
	// TLS, if set, is the TLS configuration for wss:// instead of CACert's
	// (serve's own recorder pins serve's certificate with it).
	TLS *tls.Config

	// Format is the ?format= asked of serve: binary (default), json or csv.
	Format string
	// AnyServer accepts a server that does not start with a hello (a
	// board's own WebSocket server, which ignores the query): its first
	// message is then the first one Conn.Read returns. Without it, a
	// server whose first message is not a hello is ErrNotWsbridge.
	AnyServer bool

	PingInterval time.Duration // keepalive; a silent server is dropped after about 2x this (0: default 5s, <0: off)
	HelloTimeout time.Duration // the hello must arrive within this (default 10s)
	DialTimeout  time.Duration // the TCP, TLS and HTTP handshake (default 10s)
	MaxMessage   int64         // largest message accepted (default 1 MiB)

	BackoffMin, BackoffMax time.Duration // reconnect delay bounds (default 250ms, 10s)
	// HealthyAfter is how long a connection must last for the next delay
	// to start again from BackoffMin (default 2s).
	HealthyAfter time.Duration
	// RetryForever keeps retrying errors that will not heal (logged once
	// at error level) instead of returning them from Run.
	RetryForever bool
	// Paused, if set, pauses pings while it returns true: the reader is
	// blocked on purpose (nobody reads the pongs meanwhile).
	Paused func() bool

	Log zerolog.Logger
}

func (o *Options) fill() {
	o.PingInterval = cmp.Or(o.PingInterval, 5*time.Second)
	o.HelloTimeout = cmp.Or(o.HelloTimeout, 10*time.Second)
	o.DialTimeout = cmp.Or(o.DialTimeout, 10*time.Second)
	o.BackoffMin = cmp.Or(o.BackoffMin, 250*time.Millisecond)
	o.BackoffMax = cmp.Or(o.BackoffMax, 10*time.Second)
	o.HealthyAfter = cmp.Or(o.HealthyAfter, 2*time.Second)
	o.MaxMessage = cmp.Or(o.MaxMessage, 1<<20)
	o.Format = cmp.Or(o.Format, "binary")
}

// TrustCA returns an HTTP client that trusts the certificates in the PEM
// file caFile (a serve with a self-signed certificate: --ca-cert), or nil
// (the default client) when caFile is "".
func TrustCA(caFile string) (*http.Client, error) {
	return trustCA(caFile, nil)
}

// trustCA is TrustCA, or a client with cfg when cfg is set.
func trustCA(caFile string, cfg *tls.Config) (*http.Client, error) {
	if cfg != nil {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.TLSClientConfig = cfg
		return &http.Client{Transport: tr}, nil
	}
	if caFile == "" {
		return nil, nil
	}
	pem, err := os.ReadFile(caFile)
	if err != nil {
		return nil, fmt.Errorf("failed to read --ca-cert: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("--ca-cert %s holds no PEM certificate", caFile)
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	return &http.Client{Transport: tr}, nil
}

// ParseURL checks a --url and returns it normalised: http(s):// becomes
// ws(s)://, and an empty path becomes defPath (serve's "/ws"; "" keeps
// it). Errors say what to type instead, e.g. "add ws://" for
// "127.0.0.1:8080".
func ParseURL(raw, defPath string) (string, error) {
	if raw == "" {
		return "", fmt.Errorf("--url is required, e.g. --url ws://sensor-host:8080/ws")
	}
	if !strings.Contains(raw, "://") {
		return "", fmt.Errorf("--url %q has no scheme: add ws:// (ws://%s), or wss:// for TLS", raw, withPath(raw, defPath))
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "", fmt.Errorf("--url %q: %v", raw, err)
	}
	switch u.Scheme {
	case "ws", "wss":
	case "http", "https":
		u.Scheme = strings.Replace(u.Scheme, "http", "ws", 1)
	default:
		return "", fmt.Errorf("--url %q: scheme must be ws:// or wss://", raw)
	}
	if u.Host == "" {
		return "", fmt.Errorf("--url %q: no host, e.g. ws://127.0.0.1:8080/ws", raw)
	}
	if u.Path == "" {
		u.Path = defPath
	}
	return u.String(), nil
}

func withPath(hostport, defPath string) string {
	if strings.Contains(hostport, "/") {
		return hostport
	}
	return hostport + defPath
}

// DisplayURL is u without a token query parameter, for logs and output:
// a token is never printed, not even as a placeholder someone might copy.
func DisplayURL(u string) string {
	p, err := url.Parse(u)
	if err != nil || !p.Query().Has("token") {
		return u
	}
	q := p.Query()
	q.Del("token")
	p.RawQuery = q.Encode()
	return p.String()
}

// Position is where a stream resumes: the next seq wanted, in Epoch.
type Position struct {
	Seq   uint32
	Epoch wsproto.Epoch // "" when the server sent none (an older serve)
	Valid bool          // false: nothing received yet, start live
}

// ResumeURL is base with ?format=F and, for a valid position,
// &since=SEQ&epoch=E.
func ResumeURL(base, format string, pos Position) string {
	u, err := url.Parse(base)
	if err != nil {
		return base
	}
	q := u.Query()
	q.Set("format", format)
	if pos.Valid {
		q.Set("since", strconv.FormatUint(uint64(pos.Seq), 10))
		if pos.Epoch != "" {
			q.Set("epoch", pos.Epoch)
		}
	}
	u.RawQuery = q.Encode()
	return u.String()
}
