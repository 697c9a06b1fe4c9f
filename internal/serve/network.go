package serve

import (
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"

	"github.com/rs/zerolog"
	"github.com/spf13/pflag"

	"github.com/wsbridge/wsbridge/internal/buildinfo"
	"github.com/wsbridge/wsbridge/internal/ingest"
	"github.com/wsbridge/wsbridge/internal/relay"
	"github.com/wsbridge/wsbridge/internal/source"
)

// NetworkDevice is a device on the network that connects to serve and
// publishes on /pub/NAME: a Wi-Fi board that may sit behind NAT
// (docs/protocol.md, "Wi-Fi devices").
type NetworkDevice struct {
	Token string // the device's own token: required, never the subscribers'
	Input string // what it sends: auto, v1, text or json
	Rate  uint32 // text and JSON: the rate to announce; 0 measures it
}

// PullDevice is a board that runs its own WebSocket server (the
// tutorials' sketches); serve dials it.
type PullDevice struct {
	URL    string // ws://esp32-mic.local:81/
	Token  string // sent as Authorization: Bearer, if the board wants one
	CACert string // PEM file to trust for wss://
	Input  string // auto, v1, text or json
	Rate   uint32
}

// networkFlags parses a network device's keys.
func (d *Device) networkFlags() *pflag.FlagSet {
	fs := d.historyFlags()
	linkFlags(fs, &d.Network.Token, &d.Network.Input, &d.Network.Rate)
	return fs
}

// pullFlags parses a pulled device's keys.
func (d *Device) pullFlags() *pflag.FlagSet {
	fs := d.historyFlags()
	linkFlags(fs, &d.Pull.Token, &d.Pull.Input, &d.Pull.Rate)
	fs.StringVar(&d.Pull.CACert, "ca-cert", d.Pull.CACert, "")
	return fs
}

// linkFlags adds the keys of a device that serve reaches over the network
// (either way): its token, its input and the rate to announce.
func linkFlags(fs *pflag.FlagSet, token, input *string, rate *uint32) {
	fs.StringVar(token, "token", *token, "")
	fs.StringVar(input, "input", *input, "")
	fs.Uint32Var(rate, "rate", *rate, "")
}

// parseNetSpec parses the --device forms NAME=network[:KEY=V,...] and
// NAME=pull:URL[,KEY=V,...]; ok false if rest is neither.
func (d *Device) parseNetSpec(rest string) (ok bool, err error) {
	var fs *pflag.FlagSet
	var items []string
	switch {
	case rest == "network" || strings.HasPrefix(rest, "network:"):
		d.Network, d.keys["network"] = &NetworkDevice{Input: ingest.InputAuto}, true
		fs, items = d.networkFlags(), splitList(strings.TrimPrefix(strings.TrimPrefix(rest, "network"), ":"))
	case strings.HasPrefix(rest, "pull:"):
		items = splitList(strings.TrimPrefix(rest, "pull:"))
		if len(items) == 0 {
			return true, fmt.Errorf("%s: pull: needs the board's URL, e.g. pull:ws://esp32-mic.local:81/", d.Path)
		}
		d.Pull, d.keys["pull"] = &PullDevice{URL: items[0], Input: ingest.InputAuto}, true
		fs, items = d.pullFlags(), items[1:]
	default:
		return false, nil
	}
	for _, kv := range items {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return true, fmt.Errorf("%s: %q: want KEY=VALUE, e.g. input=json", d.Path, kv)
		}
		if err := d.set(fs, "", k, v); err != nil {
			return true, err
		}
	}
	return true, nil
}

// netKind finds network: true or pull: URL in a device's YAML keys.
func (d *Device) netKind(keys map[string]string) *pflag.FlagSet {
	if v, ok := keys["network"]; ok && v == "true" {
		d.Network, d.keys["network"] = &NetworkDevice{Input: ingest.InputAuto}, true
		return d.networkFlags()
	}
	if v, ok := keys["pull"]; ok {
		d.Pull, d.keys["pull"] = &PullDevice{URL: v, Input: ingest.InputAuto}, true
		return d.pullFlags()
	}
	return nil
}

// checkNet validates a network or pulled device.
func (d *Device) checkNet() error {
	switch {
	case d.Sim != nil || d.keys["port"] || d.keys["match"]:
		return fmt.Errorf("%s: a network device has no port, match or sim: it is one or the other", d.Path)
	case d.Network != nil && d.Pull != nil:
		return fmt.Errorf("%s: network: true and pull: both given: a device connects to serve, or serve dials it", d.Path)
	}
	if n := d.Network; n != nil {
		if n.Token == "" {
			return fmt.Errorf("%s: missing: a network device needs its own token (e.g. openssl rand -hex 16), the same in its firmware", d.field("token"))
		}
		if _, err := ingest.NewDecoder(ingest.Options{Input: n.Input}); err != nil {
			return fmt.Errorf("%s: %w", d.field("input"), err)
		}
		return nil
	}
	p := d.Pull
	if _, err := ingest.NewPull(ingest.PullOptions{URL: p.URL, Input: p.Input, CACert: p.CACert}); err != nil {
		return fmt.Errorf("%s: %w", d.field("pull"), err)
	}
	return nil
}

// checkTokens: every network device has its own token, none of them the
// subscribers' (a device token cannot subscribe, a subscriber's cannot
// publish).
func checkTokens(ds []Device, subscribers string) error {
	seen := map[string]string{}
	for _, d := range ds {
		if d.Network == nil {
			continue
		}
		if d.Network.Token == subscribers {
			return fmt.Errorf("%s: the same as --token, the subscribers' token: a device needs its own", d.field("token"))
		}
		if prev, dup := seen[d.Network.Token]; dup {
			return fmt.Errorf("%s: the same as %s's: every device needs its own token", d.field("token"), prev)
		}
		seen[d.Network.Token] = d.Path
	}
	return nil
}

// netSource makes a network or pulled device's source; for a network
// device it also returns the handler of its /pub/NAME, which forwards to
// the source the Runner currently runs (it makes a new one per restart).
func netSource(d Device, o *Options, log zerolog.Logger) (func() (source.Source, error), *pubHandler) {
	server := "wsbridge " + buildinfo.Get().Version
	if n := d.Network; n != nil {
		h := &pubHandler{name: d.Name}
		opts := ingest.NetworkOptions{Channel: d.Name, Token: n.Token, Input: n.Input, Rate: n.Rate,
			Commands: o.Relay.AllowCommands, PingInterval: o.Relay.PingInterval, Server: server, Log: log,
			Epoch: h.epoch}
		return func() (source.Source, error) {
			nw, err := ingest.NewNetwork(opts)
			if err == nil {
				h.cur.Store(nw)
			}
			return nw, err
		}, h
	}
	p := d.Pull
	opts := ingest.PullOptions{Channel: d.Name, URL: p.URL, Token: p.Token, CACert: p.CACert, Input: p.Input, Rate: p.Rate,
		PingInterval: o.Relay.PingInterval, Log: log}
	return func() (source.Source, error) { return ingest.NewPull(opts) }, nil
}

// pubHandler takes /pub/NAME for the network source running now.
type pubHandler struct {
	name string
	cur  atomic.Pointer[ingest.Network]
	ch   atomic.Pointer[relay.Channel] // for the greeting's epoch
}

// epoch is the channel's current epoch.
func (h *pubHandler) epoch() string {
	if c := h.ch.Load(); c != nil {
		return c.Epoch()
	}
	return ""
}

func (h *pubHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	n := h.cur.Load()
	if n == nil {
		http.Error(w, "channel "+h.name+" is starting: try again", http.StatusServiceUnavailable)
		return
	}
	n.ServeHTTP(w, r)
}

// dumpNet writes a network or pulled device's keys (tokens redacted).
func (d *Device) dumpNet(add func(k, v string)) {
	redact := func(s string) string {
		if s == "" {
			return ""
		}
		return "REDACTED"
	}
	if n := d.Network; n != nil {
		add("network", "true")
		add("token", redact(n.Token))
		add("input", n.Input)
		if n.Rate != 0 {
			add("rate", fmt.Sprint(n.Rate))
		}
		return
	}
	p := d.Pull
	add("pull", p.URL)
	for k, v := range map[string]string{"token": redact(p.Token), "ca-cert": p.CACert} {
		if v != "" {
			add(k, v)
		}
	}
	add("input", p.Input)
	if p.Rate != 0 {
		add("rate", fmt.Sprint(p.Rate))
	}
}
