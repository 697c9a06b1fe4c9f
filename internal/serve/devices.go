package serve

import (
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/spf13/pflag"
	"gopkg.in/yaml.v3"

	"github.com/wsbridge/wsbridge/internal/adcsim"
	"github.com/wsbridge/wsbridge/internal/capture"
	"github.com/wsbridge/wsbridge/internal/config"
	"github.com/wsbridge/wsbridge/internal/relay"
)

// Device is one configured device: a channel's name and its source, a
// serial port (Serial) or the simulator (Sim). From the config file:
//
//	devices:
//	  - name: mic
//	    port: /dev/ttyUSB0        # every serial key of the command line: baud, match, input, dtr, rts, ...
//	  - name: accel
//	    match: 10c4:ea60:0002     # by USB identity, also after a replug under a new path
//	  - name: demo
//	    sim: {signal: counter, rate: 1000, channels: 2}
//
// and from the command line, --device NAME=SPEC (ParseDevice).
type Device struct {
	Name         string
	Path         string          // where it was configured, for errors: "devices[1]", "--device mic"
	Serial       capture.Options // the port's settings, when Sim is nil
	Sim          *adcsim.Config  // the simulator's settings
	Network      *NetworkDevice  // a device that connects to serve and publishes on /pub/NAME
	Pull         *PullDevice     // a board serving its own WebSocket, which serve dials
	History      time.Duration   // 0: --history
	HistoryBytes int64           // 0: --history-bytes

	keys map[string]bool // keys given, for field paths in later errors
}

// newDevice starts a device at path from the defaults.
func newDevice(path string) *Device {
	return &Device{Path: path, Serial: capture.DefaultOptions(), keys: map[string]bool{}}
}

// field is the path of one of d's keys: devices[1].port, or for a
// --device value "--device mic: port".
func (d *Device) field(key string) string {
	if strings.HasPrefix(d.Path, "--") {
		return d.Path + ": " + key
	}
	return d.Path + "." + key
}

// historyFlags starts a device's flag set with the history keys, which
// every kind of device with a channel of its own has.
func (d *Device) historyFlags() *pflag.FlagSet {
	fs := pflag.NewFlagSet(d.Path, pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.DurationVar(&d.History, "history", d.History, "")
	fs.Int64Var(&d.HistoryBytes, "history-bytes", d.HistoryBytes, "")
	return fs
}

// serialFlags parses the serial keys and the history keys of a device.
func (d *Device) serialFlags() *pflag.FlagSet {
	fs := d.historyFlags()
	capture.BindFlags(fs, &d.Serial)
	return fs
}

// simFlags parses the simulator's keys, starting the simulator's
// settings from its defaults.
func (d *Device) simFlags() *pflag.FlagSet {
	if d.Sim == nil {
		c := adcsim.DefaultConfig()
		d.Sim = &c
	}
	fs := pflag.NewFlagSet(d.Path+".sim", pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	adcsim.BindFlags(fs, d.Sim, "")
	return fs
}

// set sets one key (dashes or underscores) from its text.
func (d *Device) set(fs *pflag.FlagSet, prefix, key, val string) error {
	key = strings.ReplaceAll(strings.ToLower(key), "_", "-")
	path := d.field(prefix + key)
	f := fs.Lookup(key)
	if f == nil {
		hint := ""
		if best := config.Closest(fs, key, func(string) bool { return true }); best != "" {
			hint = fmt.Sprintf(" (did you mean %s?)", best)
		}
		return fmt.Errorf("%s: unknown key%s", path, hint)
	}
	if err := f.Value.Set(val); err != nil {
		if want := config.ValueHelp(f); want != "" {
			return fmt.Errorf("%s: %q: want %s", path, val, want)
		}
		return fmt.Errorf("%s: %q: %v", path, val, err)
	}
	d.keys[prefix+key] = true
	return nil
}

// ParseDevice parses a --device value, NAME=SPEC:
//
//	mic=/dev/ttyUSB0                    a serial port
//	mic=/dev/ttyUSB0,baud=2000000       ... with serial keys as in the config file
//	accel=match:10c4:ea60:0002          a port found by USB identity
//	demo=sim                            the simulator
//	demo=sim:signal=sine,rate=48000     ... with its keys (those of wsbridge sim)
//	mic=port=/dev/ttyUSB0,input=text    keys only
func ParseDevice(spec string) (Device, error) {
	name, rest, ok := strings.Cut(spec, "=")
	d := newDevice("--device " + name)
	if !ok || name == "" || rest == "" {
		return Device{}, fmt.Errorf("--device %q: want NAME=SPEC, e.g. mic=/dev/ttyUSB0 or demo=sim:signal=sine,rate=48000", spec)
	}
	d.Name = name
	if ok, err := d.parseNetSpec(rest); ok {
		if err != nil {
			return Device{}, err
		}
		return *d, d.check()
	}
	if rest == "sim" || strings.HasPrefix(rest, "sim:") {
		fs := d.simFlags()
		for _, kv := range splitList(strings.TrimPrefix(strings.TrimPrefix(rest, "sim"), ":")) {
			k, v, _ := strings.Cut(kv, "=")
			if err := d.set(fs, "sim.", k, v); err != nil {
				return Device{}, err
			}
		}
		return *d, d.check()
	}
	items := splitList(rest)
	fs := d.serialFlags()
	switch first := items[0]; {
	case strings.HasPrefix(first, "match:"):
		items[0] = "match=" + strings.TrimPrefix(first, "match:")
	case !strings.Contains(first, "="):
		items[0] = "port=" + first
	}
	for _, kv := range items {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return Device{}, fmt.Errorf("%s: %q: want KEY=VALUE after the port, e.g. baud=2000000", d.Path, kv)
		}
		if err := d.set(fs, "", k, v); err != nil {
			return Device{}, err
		}
	}
	return *d, d.check()
}

func splitList(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}

// ParseDevices parses the config file's devices: list.
func ParseDevices(v *yaml.Node) ([]Device, error) {
	if v.Kind != yaml.SequenceNode {
		return nil, fmt.Errorf("devices (line %d): want a list of devices, each with a name and a port, match or sim", v.Line)
	}
	var out []Device
	for i, item := range v.Content {
		d, err := parseYAMLDevice(item, fmt.Sprintf("devices[%d]", i))
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, nil
}

func parseYAMLDevice(v *yaml.Node, path string) (Device, error) {
	d := newDevice(path)
	if v.Kind != yaml.MappingNode {
		return Device{}, fmt.Errorf("%s (line %d): want a mapping such as {name: mic, port: /dev/ttyUSB0}", path, v.Line)
	}
	scalars := map[string]string{}
	for i := 0; i+1 < len(v.Content); i += 2 {
		scalars[strings.ToLower(v.Content[i].Value)] = v.Content[i+1].Value
	}
	fs := d.netKind(scalars)
	if fs == nil {
		fs = d.serialFlags()
	}
	for i := 0; i+1 < len(v.Content); i += 2 {
		k, val := v.Content[i], v.Content[i+1]
		key := strings.ReplaceAll(strings.ToLower(k.Value), "_", "-")
		var err error
		switch {
		case key == "name":
			d.Name, d.keys["name"] = val.Value, true
		case key == "network" && d.Network != nil, key == "pull" && d.Pull != nil:
		case key == "network" && val.Value != "false":
			err = fmt.Errorf("%s: %q: want true (the device connects to serve on /pub/NAME)", d.field(key), val.Value)
		case key == "network":
		case key == "sim":
			err = d.yamlSim(val)
		case val.Kind != yaml.ScalarNode:
			err = fmt.Errorf("%s: want a plain value", d.field(key))
		default:
			err = d.set(fs, "", key, val.Value)
		}
		if err != nil {
			return Device{}, fmt.Errorf("%w (line %d)", err, k.Line)
		}
	}
	return *d, d.check()
}

// yamlSim reads sim: as a mapping of the simulator's keys, or sim: true.
func (d *Device) yamlSim(v *yaml.Node) error {
	fs := d.simFlags()
	d.keys["sim"] = true
	switch {
	case v.Kind == yaml.ScalarNode && (v.Value == "true" || v.Value == ""):
		return nil
	case v.Kind != yaml.MappingNode:
		return fmt.Errorf("%s: want the simulator's settings, e.g. {signal: counter, rate: 1000}, or true", d.field("sim"))
	}
	for i := 0; i+1 < len(v.Content); i += 2 {
		if err := d.set(fs, "sim.", v.Content[i].Value, v.Content[i+1].Value); err != nil {
			return err
		}
	}
	return nil
}

// check validates one device by itself, naming the field at fault.
func (d *Device) check() error {
	switch {
	case !d.keys["name"] && !strings.HasPrefix(d.Path, "--"):
		return fmt.Errorf("%s.name: missing: every device needs a name, its channel's (/ws/NAME)", d.Path)
	case !relay.ValidChannelName(d.Name):
		return fmt.Errorf("%s: %q: a channel name is 1 to 32 lower-case letters, digits, - or _, starting with a letter or digit (e.g. mic, accel-2)", d.field("name"), d.Name)
	case d.History < 0 || d.HistoryBytes != 0 && d.HistoryBytes < 1<<16:
		return fmt.Errorf("%s: history must be positive and history-bytes at least 65536", d.Path)
	case d.Network != nil || d.Pull != nil:
		return d.checkNet()
	case d.Sim != nil && (d.keys["port"] || d.keys["match"]):
		return fmt.Errorf("%s: both a port and sim: a device is one or the other", d.Path)
	case d.Sim == nil && !d.keys["port"] && !d.keys["match"]:
		return fmt.Errorf("%s: no port, match, sim, network or pull: say which device this is, e.g. port: /dev/ttyUSB0", d.Path)
	}
	if d.Sim != nil {
		if err := d.Sim.Validate(); err != nil {
			return fmt.Errorf("%s: %w", d.field("sim"), err)
		}
		return nil
	}
	if err := d.Serial.Validate(); err != nil {
		return fmt.Errorf("%s: %w", d.Path, err)
	}
	return nil
}

// sourcePath is what a failure of d's source is prefixed with: the field
// that names the device (devices[1].port, devices[0].match, --device mic),
// or nothing for the one device of --port or --sim, whose errors name
// the port themselves.
func (d *Device) sourcePath() string {
	switch {
	case d.Path == "":
		return ""
	case strings.HasPrefix(d.Path, "--"):
		return d.Path
	case d.Sim != nil:
		return d.field("sim")
	case d.Network != nil:
		return d.field("network")
	case d.Pull != nil:
		return d.field("pull")
	case d.keys["match"] && !d.keys["port"]:
		return d.field("match")
	}
	return d.field("port")
}

// withoutBoard says how to run this device without a board, for the hint
// of a port that is not found: --sim goes with neither --device nor a
// devices: entry.
func (d *Device) withoutBoard() string {
	if strings.HasPrefix(d.Path, "--") {
		return "use " + d.Path + "=sim"
	}
	return "give " + d.Path + " sim: {...} instead of a port"
}

// checkDevices checks what only a list can get wrong: two devices with one
// name or one port.
func checkDevices(ds []Device) error {
	names, ports := map[string]string{}, map[string]string{}
	for _, d := range ds {
		if prev, dup := names[d.Name]; dup {
			return fmt.Errorf("%s: %q is the name of %s too: every device needs its own", d.field("name"), d.Name, prev)
		}
		names[d.Name] = d.Path
		if d.Sim != nil || d.Serial.Port == "" {
			continue
		}
		if prev, dup := ports[d.Serial.Port]; dup {
			return fmt.Errorf("%s: %s is the port of %s too: one port carries one device", d.field("port"), d.Serial.Port, prev)
		}
		ports[d.Serial.Port] = d.Path
	}
	if len(ds) == 0 {
		return errors.New("no device configured")
	}
	return nil
}

// DumpDevices writes devices as the config file's devices: block, with
// the keys each was given, in a form ParseDevices reads back: what
// `serve --check` prints after the flags.
func DumpDevices(w io.Writer, ds []Device) error {
	if len(ds) == 0 {
		return nil
	}
	list := &yaml.Node{Kind: yaml.SequenceNode}
	for _, d := range ds {
		m := &yaml.Node{Kind: yaml.MappingNode}
		add := func(to *yaml.Node, k, v string) {
			to.Content = append(to.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: k}, &yaml.Node{Kind: yaml.ScalarNode, Value: v})
		}
		add(m, "name", d.Name)
		if d.Network != nil || d.Pull != nil {
			d.dumpNet(func(k, v string) { add(m, k, v) })
			list.Content = append(list.Content, m)
			continue
		}
		fs := d.serialFlags()
		var keys []string
		for k := range d.keys {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if f := fs.Lookup(k); f != nil {
				add(m, k, f.Value.String())
			}
		}
		if d.Sim != nil {
			sim := &yaml.Node{Kind: yaml.MappingNode, Style: yaml.FlowStyle}
			sfs := d.simFlags()
			for _, k := range keys {
				if name, ok := strings.CutPrefix(k, "sim."); ok {
					add(sim, name, sfs.Lookup(name).Value.String())
				}
			}
			m.Content = append(m.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: "sim"}, sim)
		}
		list.Content = append(list.Content, m)
	}
	doc := &yaml.Node{Kind: yaml.MappingNode, Content: []*yaml.Node{{Kind: yaml.ScalarNode, Value: "devices"}, list}}
	enc := yaml.NewEncoder(w)
	enc.SetIndent(2)
	if err := enc.Encode(doc); err != nil {
		return err
	}
	return enc.Close()
}
