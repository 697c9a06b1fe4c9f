package bus

import (
	"bytes"
	"cmp"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"
	"gopkg.in/yaml.v3"
)

// BindFlags binds serve's --bus flags to c (the same settings as the
// `bus:` configuration block; a flag given wins over the file, see
// Merge). Unset, they take Config.Defaults.
func BindFlags(f *pflag.FlagSet, c *Config) {
	f.Var(&c.URL, "bus", "NATS servers of the bus (nats://host:4222, comma-separated or repeated): publish this serve's channels there and serve every channel on it (docs/bus.md)")
	f.StringVar(&c.Creds, "bus-creds", c.Creds, "NATS credentials file (user JWT and nkey seed) for --bus")
	f.StringVar(&c.NKey, "bus-nkey", c.NKey, "NATS nkey seed file for --bus")
	f.StringVar(&c.TLS.CA, "bus-tls-ca", c.TLS.CA, "PEM file of the CA that signed the NATS servers' certificates")
	f.StringVar(&c.TLS.Cert, "bus-tls-cert", c.TLS.Cert, "PEM client certificate for NATS servers that ask for one")
	f.StringVar(&c.TLS.Key, "bus-tls-key", c.TLS.Key, "PEM private key of --bus-tls-cert")
	f.StringVar(&c.Prefix, "bus-prefix", cmp.Or(c.Prefix, "wsbridge"), "subject prefix: channels are published on PREFIX.SITE.CHANNEL, streams named PREFIX_CHANNEL")
	f.StringVar(&c.Site, "bus-site", c.Site, "this serve's site on the bus (a subject token); default: the host's name")
	f.StringVar(&c.Domain, "bus-domain", c.Domain, "JetStream domain of the hub, when --bus is a leaf node without JetStream of its own")
	f.DurationVar(&c.Stream.MaxAge, "bus-max-age", c.Stream.MaxAge, "how long the bus keeps each channel's events; default --history")
	f.Var(&c.Stream.MaxBytes, "bus-max-bytes", "at most this much of each channel on the bus (e.g. 1GiB); default --history-bytes")
	f.IntVar(&c.Stream.Replicas, "bus-replicas", cmp.Or(c.Stream.Replicas, 1), "copies of each channel's stream: 1, or 3 in a 3-node cluster (survives a node's loss)")
	f.StringVar(&c.Stream.Storage, "bus-storage", cmp.Or(c.Stream.Storage, "file"), "where the bus keeps the streams: file (survives a NATS restart) or memory")
	f.Var((*mqttFlag)(&c.MQTT), "bus-mqtt", "a board publishing MQTT to the NATS servers, as a channel: NAME=TOPIC[,input=json,rate=N,silence=5s], repeatable")
}

// Set parses a size like 512MiB (a pflag.Value).
func (b *Bytes) Set(s string) error {
	v, err := ParseBytes(s)
	if err != nil {
		return err
	}
	*b = v
	return nil
}

// String is the size in bytes.
func (b *Bytes) String() string { return strconv.FormatInt(int64(*b), 10) }

// Type names the value in help.
func (b *Bytes) Type() string { return "size" }

// ReadSection reads the configuration file's bus: value into c: one URL,
// a list of URLs, or the whole block (see Config). Unknown keys are
// errors naming the line.
func ReadSection(v *yaml.Node, c *Config) error {
	if v.Kind == yaml.ScalarNode || v.Kind == yaml.SequenceNode {
		return c.URL.UnmarshalYAML(v)
	}
	b, err := yaml.Marshal(v)
	if err != nil {
		return err
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(c); err != nil {
		return fmt.Errorf("bus: %w (keys: url, creds, nkey, tls {ca, cert, key}, prefix, site, domain, stream {max_age, max_bytes, replicas, storage}, mqtt [{channel, topic, input, rate, silence}], inflight, batch, ack_timeout, alive)", err)
	}
	return nil
}

// Merge is the configuration file's bus: block with the settings of the
// flags set on the command line or by WSBRIDGE_BUS_* variables (changed)
// in their place.
func Merge(file, flags Config, changed func(flag string) bool) Config {
	out := file
	set := map[string]func(){
		"bus":           func() { out.URL = flags.URL },
		"bus-creds":     func() { out.Creds = flags.Creds },
		"bus-nkey":      func() { out.NKey = flags.NKey },
		"bus-tls-ca":    func() { out.TLS.CA = flags.TLS.CA },
		"bus-tls-cert":  func() { out.TLS.Cert = flags.TLS.Cert },
		"bus-tls-key":   func() { out.TLS.Key = flags.TLS.Key },
		"bus-prefix":    func() { out.Prefix = flags.Prefix },
		"bus-site":      func() { out.Site = flags.Site },
		"bus-domain":    func() { out.Domain = flags.Domain },
		"bus-max-age":   func() { out.Stream.MaxAge = flags.Stream.MaxAge },
		"bus-max-bytes": func() { out.Stream.MaxBytes = flags.Stream.MaxBytes },
		"bus-replicas":  func() { out.Stream.Replicas = flags.Stream.Replicas },
		"bus-storage":   func() { out.Stream.Storage = flags.Stream.Storage },
	}
	for name, apply := range set {
		if changed(name) {
			apply()
		}
	}
	return out
}

// mqttFlag is --bus-mqtt NAME=TOPIC[,KEY=VALUE...], repeatable.
type mqttFlag []MQTTDevice

func (m *mqttFlag) Type() string { return "NAME=TOPIC" }

func (m *mqttFlag) String() string {
	var s []string
	for _, d := range *m {
		s = append(s, d.Channel+"="+d.Topic)
	}
	return strings.Join(s, " ")
}

func (m *mqttFlag) Set(v string) error {
	name, rest, ok := strings.Cut(v, "=")
	items := strings.Split(rest, ",")
	if !ok || name == "" || items[0] == "" {
		return fmt.Errorf("%q: want NAME=TOPIC[,input=json,rate=N,silence=5s], e.g. garden=garden/temp,input=json", v)
	}
	d := MQTTDevice{Channel: name, Topic: items[0]}
	for _, kv := range items[1:] {
		k, val, _ := strings.Cut(kv, "=")
		var err error
		switch k {
		case "input":
			d.Input = val
		case "rate":
			var r uint64
			r, err = strconv.ParseUint(val, 10, 32)
			d.Rate = uint32(r)
		case "silence":
			d.Silence, err = time.ParseDuration(val)
		default:
			err = fmt.Errorf("unknown key (input, rate, silence)")
		}
		if err != nil {
			return fmt.Errorf("%q: %s: %v", v, k, err)
		}
	}
	*m = append(*m, d)
	return nil
}
