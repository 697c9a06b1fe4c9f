package serve

import (
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// The --device syntax, good and bad, with the errors a user reads.
func TestParseDevice(t *testing.T) {
	good := []struct {
		spec  string
		check func(d Device) bool
	}{
		{"mic=/dev/ttyUSB0", func(d Device) bool {
			return d.Name == "mic" && d.Serial.Port == "/dev/ttyUSB0" && d.Sim == nil && d.Serial.Baud == 921600
		}},
		{"mic=/dev/ttyUSB0,baud=2000000,input=text,text_rate=100", func(d Device) bool {
			return d.Serial.Baud == 2000000 && d.Serial.Input == "text" && d.Serial.TextRate == 100
		}},
		{"accel=match:10c4:ea60:0002,dtr=on", func(d Device) bool { return d.Serial.Match == "10c4:ea60:0002" && d.Serial.DTR == "on" }},
		{"demo=sim", func(d Device) bool { return d.Sim != nil && d.Sim.Signal == "sine" && d.Sim.Rate == 16000 }},
		{"demo=sim:signal=sine,rate=48000,sample-type=f32", func(d Device) bool {
			return d.Sim.Rate == 48000 && d.Sim.SampleType == "f32"
		}},
		{"mic=port=/dev/ttyACM0,history=5s,history-bytes=1048576", func(d Device) bool {
			return d.Serial.Port == "/dev/ttyACM0" && d.History.Seconds() == 5 && d.HistoryBytes == 1<<20
		}},
	}
	for _, c := range good {
		d, err := ParseDevice(c.spec)
		if err != nil || !c.check(d) || d.Path != "--device "+d.Name {
			t.Errorf("ParseDevice(%q) = %+v, %v", c.spec, d, err)
		}
	}
	bad := []struct{ spec, want string }{
		{"/dev/ttyUSB0", `--device "/dev/ttyUSB0": want NAME=SPEC, e.g. mic=/dev/ttyUSB0 or demo=sim:signal=sine,rate=48000`},
		{"Mic=/dev/ttyUSB0", `--device Mic: name: "Mic": a channel name is 1 to 32 lower-case letters`},
		{"mic=/dev/ttyUSB0,baud=fast", `--device mic: baud: "fast": want a whole number`},
		{"mic=/dev/ttyUSB0,bauds=9600", `--device mic: bauds: unknown key (did you mean baud?)`},
		{"mic=/dev/ttyUSB0,dtr=maybe", `--device mic: invalid dtr "maybe": want auto, on, off or keep`},
		{"demo=sim:rate=0", `--device demo: sim: rate: must be`},
		{"demo=sim:signal=sine,rat=5", `--device demo: sim.rat: unknown key (did you mean rate?)`},
		{"mic=/dev/ttyUSB0,2000000", `--device mic: "2000000": want KEY=VALUE after the port, e.g. baud=2000000`},
	}
	for _, c := range bad {
		if _, err := ParseDevice(c.spec); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("ParseDevice(%q) = %v, want %q", c.spec, err, c.want)
		}
	}
}

// The config file's devices: list, the example and its mistakes,
// each named by its field path and line.
func TestParseDevicesYAML(t *testing.T) {
	parse := func(src string) ([]Device, error) {
		var doc yaml.Node
		if err := yaml.Unmarshal([]byte(src), &doc); err != nil {
			t.Fatal(err)
		}
		ds, err := ParseDevices(doc.Content[0].Content[1])
		if err == nil {
			err = checkDevices(ds)
		}
		return ds, err
	}
	ds, err := parse(`devices:
  - name: mic
    port: /dev/ttyUSB0          # every serial key: baud, match, input, dtr, rts, ...
    baud: 2000000
  - name: accel
    match: 10c4:ea60:0002
  - name: demo
    sim: {signal: counter, rate: 1000, channels: 2}
`)
	if err != nil || len(ds) != 3 || ds[0].Serial.Baud != 2000000 || ds[1].Serial.Match != "10c4:ea60:0002" ||
		ds[2].Sim == nil || ds[2].Sim.Signal != "counter" || ds[2].Sim.Channels != 2 ||
		ds[0].sourcePath() != "devices[0].port" || ds[1].sourcePath() != "devices[1].match" || ds[2].sourcePath() != "devices[2].sim" {
		t.Fatalf("devices %+v, %v", ds, err)
	}
	for _, c := range []struct{ src, want string }{
		{"devices:\n  - port: /dev/ttyUSB0\n", "devices[0].name: missing: every device needs a name"},
		{"devices:\n  - name: mic\n    port: /dev/ttyUSB0\n  - name: mic\n    sim: true\n", `devices[1].name: "mic" is the name of devices[0] too`},
		{"devices:\n  - name: a\n    port: /dev/ttyUSB0\n  - name: b\n    port: /dev/ttyUSB0\n", "devices[1].port: /dev/ttyUSB0 is the port of devices[0] too"},
		{"devices:\n  - name: mic\n    baud: 9600\n", "devices[0]: no port, match, sim, network or pull"},
		{"devices:\n  - name: mic\n    port: /dev/ttyUSB0\n    sim: true\n", "devices[0]: both a port and sim"},
		{"devices:\n  - name: mic\n    port: /dev/ttyUSB0\n    baud: 9600x\n", `devices[0].baud: "9600x": want a whole number (line 4)`},
		{"devices:\n  - name: demo\n    sim: {rate: fast}\n", `devices[0].sim.rate: "fast": want a whole number from 0 to 4294967295 (line 3)`},
		{"devices: mic\n", "devices (line 1): want a list of devices"},
	} {
		if _, err := parse(c.src); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: %v, want %q", c.src, err, c.want)
		}
	}
}

// --check prints the devices in a form the config file takes back.
func TestDumpDevicesRoundTrips(t *testing.T) {
	var in []Device
	for _, spec := range []string{"mic=/dev/ttyUSB0,baud=2000000", "demo=sim:signal=counter,rate=1000"} {
		d, err := ParseDevice(spec)
		if err != nil {
			t.Fatal(err)
		}
		in = append(in, d)
	}
	var b strings.Builder
	if err := DumpDevices(&b, in); err != nil {
		t.Fatal(err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(b.String()), &doc); err != nil {
		t.Fatal(err)
	}
	out, err := ParseDevices(doc.Content[0].Content[1])
	if err != nil || len(out) != 2 || out[0].Serial.Baud != 2000000 || out[0].Serial.Port != "/dev/ttyUSB0" ||
		out[1].Sim == nil || out[1].Sim.Rate != 1000 || out[1].Sim.Signal != "counter" {
		t.Fatalf("round trip of\n%s: %+v, %v", b.String(), out, err)
	}
}

// TestWithoutBoardHint: a port that is not found says how to run that very
// device without a board: --sim goes with neither --device nor devices:.
func TestWithoutBoardHint(t *testing.T) {
	flag, err := ParseDevice("mic=/dev/ttyUSB9")
	if err != nil {
		t.Fatal(err)
	}
	for d, want := range map[*Device]string{
		&flag:                   "use --device mic=sim",
		newDevice("devices[1]"): "give devices[1] sim: {...} instead of a port",
	} {
		if got := d.withoutBoard(); got != want {
			t.Errorf("%s: %q, want %q", d.Path, got, want)
		}
	}
}

// TestDeviceHistoryCheckedForEveryKind: a history too small is refused,
// naming the device, whatever kind of device it is.
func TestDeviceHistoryCheckedForEveryKind(t *testing.T) {
	for _, spec := range []string{"mic=/dev/ttyUSB0,history-bytes=100",
		"garden=network:token=t0ken,history-bytes=100", "board=pull:ws://esp32.local:81/,history-bytes=100"} {
		_, err := ParseDevice(spec)
		if err == nil || !strings.HasSuffix(err.Error(), ": history must be positive and history-bytes at least 65536") || !strings.HasPrefix(err.Error(), "--device ") {
			t.Errorf("%s: %v", spec, err)
		}
	}
}
