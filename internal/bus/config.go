package bus

import (
	"fmt"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Config is the `bus:` block of serve's configuration.
//
//	bus:
//	  url: [nats://n1:4222, nats://n2:4222]   # or one string; comma-separated works too
//	  creds: /etc/wsbridge/lab1.creds          # or nkey: /etc/wsbridge/lab1.nk
//	  tls: {ca: ca.pem, cert: client.pem, key: client-key.pem}
//	  prefix: wsbridge                         # subjects <prefix>.<site>.<channel>
//	  site: lab1                               # default: this host's name
//	  stream: {max_age: 1h, max_bytes: 1GiB, replicas: 3, storage: file}
//	  inflight: 8                              # messages awaiting their ack, per channel
//	  batch: 64                                # at most this many frames per message
//	  alive: 2s                                # "I am alive" on the bus; mirrors say down after 3 missed
//	  mqtt:                                    # boards publishing MQTT to the NATS servers
//	    - {channel: garden, topic: garden/temp, input: json}
//
// The zero value of each field takes the default in Defaults.
type Config struct {
	URL    URLList `yaml:"url"`
	Creds  string  `yaml:"creds"` // NATS credentials file (user JWT and nkey seed)
	NKey   string  `yaml:"nkey"`  // nkey seed file
	TLS    TLS     `yaml:"tls"`
	Prefix string  `yaml:"prefix"`
	Site   string  `yaml:"site"`
	Domain string  `yaml:"domain"` // JetStream domain, when the nearest server is a leaf with its own JetStream
	Stream Stream  `yaml:"stream"`
	// Inflight is how many messages of one channel may await their ack;
	// the frames that arrive while that many do go together in the next
	// message, up to Batch frames. A bus slower than the frames then
	// gets fewer, larger messages instead of a queue. Default 8.
	Inflight int `yaml:"inflight"`
	// Batch is the most frames one message carries (1: one message per
	// frame). Default 64.
	Batch int `yaml:"batch"`
	// MQTT are boards that publish MQTT to the bus's servers (nats-server's
	// MQTT listener): each becomes a channel of this serve.
	MQTT []MQTTDevice `yaml:"mqtt"`
	// AckTimeout is how long a publish, or a JetStream API request, may
	// wait for its answer before the bus is treated as lost and the
	// publisher resends from its last ack (the follower starts a new
	// consumer). An answer lost with a dying node costs this long; a
	// slow one only a resend, never a duplicate. Default 2 s.
	AckTimeout time.Duration `yaml:"ack_timeout"`
	// Alive is how often this serve says on the bus that it is alive
	// (on <subject>.alive, never stored). A serve that mirrors the
	// channel tells its clients the device is down when it has heard
	// nothing for three of the origin's intervals (a crashed serve, a
	// site cut off). Default 2 s.
	Alive time.Duration `yaml:"alive"`
}

// TLS names the files for a TLS connection to NATS (tls:// URLs, or a
// server that requires TLS). CA alone verifies the server; Cert and Key
// add a client certificate.
type TLS struct {
	CA   string `yaml:"ca"`
	Cert string `yaml:"cert"`
	Key  string `yaml:"key"`
}

// Stream holds the settings of each channel's stream. MaxAge and MaxBytes
// default to the channel's own history (--history, --history-bytes):
// the bus keeps what the ring keeps unless told to keep more.
type Stream struct {
	MaxAge   time.Duration `yaml:"max_age"`
	MaxBytes Bytes         `yaml:"max_bytes"`
	Replicas int           `yaml:"replicas"` // 1, or 3 (or 5) in a cluster
	Storage  string        `yaml:"storage"`  // file (default) or memory
}

// Defaults fills every zero field with its default; site defaults to
// this host's name, made into a subject token.
func (c *Config) Defaults() {
	if c.Prefix == "" {
		c.Prefix = "wsbridge"
	}
	if c.Site == "" {
		c.Site = hostSite()
	}
	if c.Stream.Replicas == 0 {
		c.Stream.Replicas = 1
	}
	if c.Stream.Storage == "" {
		c.Stream.Storage = "file"
	}
	if c.Inflight == 0 {
		c.Inflight = 8
	}
	if c.Batch == 0 {
		c.Batch = 64
	}
	if c.AckTimeout == 0 {
		c.AckTimeout = 2 * time.Second
	}
	if c.Alive == 0 {
		c.Alive = 2 * time.Second
	}
}

// Enabled reports whether a bus is configured at all.
func (c *Config) Enabled() bool { return len(c.URL) > 0 }

// Validate checks the configuration after Defaults, naming the field.
func (c *Config) Validate() error {
	if len(c.URL) == 0 {
		return fieldErr("url", "no NATS server URL (e.g. nats://127.0.0.1:4222)")
	}
	for i, s := range c.URL {
		u, err := url.Parse(s)
		if err != nil || u.Host == "" {
			return fieldErr(fmt.Sprintf("url[%d]", i), "%q is not a URL like nats://host:4222", s)
		}
		switch u.Scheme {
		case "nats", "tls", "ws", "wss":
		default:
			return fieldErr(fmt.Sprintf("url[%d]", i), "%q: scheme must be nats, tls, ws or wss", s)
		}
	}
	if c.Creds != "" && c.NKey != "" {
		return fieldErr("nkey", "give creds or nkey, not both")
	}
	for path, f := range map[string]string{"creds": c.Creds, "nkey": c.NKey, "tls.ca": c.TLS.CA, "tls.cert": c.TLS.Cert, "tls.key": c.TLS.Key} {
		if f == "" {
			continue
		}
		if _, err := os.Stat(f); err != nil {
			return fieldErr(path, "%v", err)
		}
	}
	if (c.TLS.Cert == "") != (c.TLS.Key == "") {
		return fieldErr("tls", "cert and key go together")
	}
	if err := (Layout{Prefix: c.Prefix, Site: c.Site}).Validate(); err != nil {
		return err
	}
	if c.Domain != "" && !tokenRE.MatchString(c.Domain) {
		return fieldErr("domain", "%q must be one token of letters, digits, - or _", c.Domain)
	}
	if err := c.Stream.validate(c); err != nil {
		return err
	}
	seen := map[string]int{}
	for i, m := range c.MQTT {
		path := fmt.Sprintf("mqtt[%d]", i)
		if err := checkChannel(m.Channel); err != nil {
			return fieldErr(path+".channel", "%q: a channel name is 1 to 32 lower-case letters, digits, - or _", m.Channel)
		}
		if j, dup := seen[m.Channel]; dup {
			return fieldErr(path+".channel", "%q is the channel of mqtt[%d] too", m.Channel, j)
		}
		seen[m.Channel] = i
		if !mqttTopicRE.MatchString(m.Topic) {
			return fieldErr(path+".topic", "%q: want levels of letters, digits, - or _ separated by / (e.g. garden/temp)", m.Topic)
		}
		switch m.Input {
		case "", "auto", "v1", "text", "json":
		default:
			return fieldErr(path+".input", "%q: want auto, v1, text or json", m.Input)
		}
	}
	return nil
}

// MQTTDevice is a board that publishes MQTT to the bus's servers.
type MQTTDevice struct {
	Channel string        `yaml:"channel"` // the channel it becomes
	Topic   string        `yaml:"topic"`   // the MQTT topic it publishes to (garden/temp)
	Input   string        `yaml:"input"`   // auto (default), v1, text or json
	Rate    uint32        `yaml:"rate"`    // text/JSON: the rate to announce; 0 measures it
	Silence time.Duration `yaml:"silence"` // no message this long: the device is down (default 5s)
}

func (s *Stream) validate(c *Config) error {
	switch {
	case s.MaxAge < 0:
		return fieldErr("stream.max_age", "must not be negative, got %v", s.MaxAge)
	case s.MaxAge > 0 && s.MaxAge < time.Second:
		return fieldErr("stream.max_age", "at least 1s, got %v", s.MaxAge)
	case s.MaxBytes < 0:
		return fieldErr("stream.max_bytes", "must not be negative, got %d", s.MaxBytes)
	case s.Replicas < 1 || s.Replicas > 5:
		return fieldErr("stream.replicas", "1 to 5, got %d (JetStream's limit; 3 in a 3-node cluster)", s.Replicas)
	case s.Storage != "file" && s.Storage != "memory":
		return fieldErr("stream.storage", "file or memory, got %q", s.Storage)
	case c.Inflight < 1 || c.Inflight > 65536:
		return fieldErr("inflight", "1 to 65536, got %d", c.Inflight)
	case c.Batch < 1 || c.Batch > 1024:
		return fieldErr("batch", "1 to 1024 frames, got %d", c.Batch)
	case c.AckTimeout < 100*time.Millisecond:
		return fieldErr("ack_timeout", "at least 100ms, got %v", c.AckTimeout)
	case c.Alive < 50*time.Millisecond || c.Alive > time.Minute:
		return fieldErr("alive", "50ms to 1m, got %v", c.Alive)
	}
	return nil
}

// Layout is the naming this configuration gives channels.
func (c *Config) Layout() Layout { return Layout{Prefix: c.Prefix, Site: c.Site} }

// hostSite is this host's name as a subject token ("lab-pc.example" ->
// "lab-pc"), or "site" when it has none usable.
func hostSite() string {
	h, _ := os.Hostname()
	h, _, _ = strings.Cut(strings.ToLower(h), ".")
	h = regexp.MustCompile(`[^a-z0-9_-]+`).ReplaceAllString(h, "-")
	if h == "" || h == "-" {
		return "site"
	}
	return h
}

// URLList is one URL or several: a YAML string (comma-separated allowed)
// or a YAML sequence.
type URLList []string

// UnmarshalYAML accepts a string or a list of strings.
func (l *URLList) UnmarshalYAML(n *yaml.Node) error {
	var list []string
	if n.Kind == yaml.ScalarNode {
		list = []string{n.Value}
	} else if err := n.Decode(&list); err != nil {
		return err
	}
	*l = nil
	for _, s := range list {
		l.add(s)
	}
	return nil
}

// Set adds comma-separated URLs (for a repeatable --bus flag).
func (l *URLList) Set(s string) error { l.add(s); return nil }
func (l *URLList) String() string     { return strings.Join(*l, ",") }
func (l *URLList) Type() string       { return "urls" }

func (l *URLList) add(s string) {
	for _, u := range strings.Split(s, ",") {
		if u = strings.TrimSpace(u); u != "" {
			*l = append(*l, u)
		}
	}
}

// Bytes is a size in bytes: a YAML integer, or a number with a unit
// (KB, MB, GB, TB powers of 1000; KiB, MiB, GiB, TiB powers of 1024).
type Bytes int64

var bytesRE = regexp.MustCompile(`^\s*([0-9]+)\s*([KMGT]i?B|B)?\s*$`)

// ParseBytes reads "512MiB", "1GB", "1048576".
func ParseBytes(s string) (Bytes, error) {
	m := bytesRE.FindStringSubmatch(s)
	if m == nil {
		return 0, fmt.Errorf("%q is not a size like 512MiB, 1GB or 1048576", s)
	}
	n, err := strconv.ParseInt(m[1], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%q: %w", s, err)
	}
	mult := map[string]int64{"": 1, "B": 1, "KB": 1e3, "MB": 1e6, "GB": 1e9, "TB": 1e12,
		"KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30, "TiB": 1 << 40}[m[2]]
	if n > (1<<63-1)/mult {
		return 0, fmt.Errorf("%q is too large", s)
	}
	return Bytes(n * mult), nil
}

// UnmarshalYAML accepts an integer or a size with a unit.
func (b *Bytes) UnmarshalYAML(n *yaml.Node) error {
	v, err := ParseBytes(n.Value)
	if err != nil {
		return err
	}
	*b = v
	return nil
}
