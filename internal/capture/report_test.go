package capture

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

func TestWritePortsTable(t *testing.T) {
	var b bytes.Buffer
	if err := writePorts(&b, []PortInfo{cp2102, other}, false); err != nil {
		t.Fatal(err)
	}
	want := `PATH          USB ID     SERIAL  MANUFACTURER / PRODUCT                               ESP32?
/dev/ttyUSB0  10c4:ea60  0001    Silicon Labs / CP2102 USB to UART Bridge Controller  yes: CP210x
/dev/ttyACM0  2341:0043  -       Arduino Uno                                          -

wsbridge serve will use /dev/ttyUSB0 when run without --port

to serve them together, as channels /ws/board1, ..., in serve --config FILE (name them after what they measure):

devices:
  - name: board1
    match: 10c4:ea60:0001   # /dev/ttyUSB0
`
	if b.String() != want {
		t.Fatalf("got\n%s\nwant\n%s", b.String(), want)
	}
}

func TestWritePortsNone(t *testing.T) {
	var b bytes.Buffer
	writePorts(&b, nil, false)
	if !strings.HasPrefix(b.String(), "no serial ports found; plug in the board") {
		t.Fatalf("got %q", b.String())
	}
	b.Reset()
	writePorts(&b, nil, true)
	if strings.TrimSpace(b.String()) != "[]" {
		t.Fatalf("json with none: got %q, want []", b.String())
	}
}

func TestWritePortsJSON(t *testing.T) {
	var b bytes.Buffer
	writePorts(&b, []PortInfo{cp2102}, true)
	var got []map[string]any
	if err := json.Unmarshal(b.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	p := got[0]
	if p["path"] != "/dev/ttyUSB0" || p["vid"] != "10c4" || p["pid"] != "ea60" || p["serial"] != "0001" ||
		p["chip"] != "CP210x" || p["likely_esp32"] != true || p["product"] != cp2102.Product {
		t.Fatalf("got %v", p)
	}
}

// Two identical boards are told apart by their serial numbers; boards
// without one, by path (and the block says so).
func TestPortsSuggestDevices(t *testing.T) {
	a, b, c, d := cp2102, cp2102, cp2102, cp2102
	b.Path, b.Serial = "/dev/ttyUSB1", "0002"
	c.Path, c.VID, c.PID, c.Serial, c.Chip = "/dev/ttyUSB2", "1a86", "7523", "", "CH340"
	d.Path, d.VID, d.PID, d.Serial, d.Chip = "/dev/ttyUSB3", "1a86", "7523", "", "CH340"
	got := Ports{a, b, c, d}.String()
	for _, want := range []string{
		"  - name: board1\n    match: 10c4:ea60:0001   # /dev/ttyUSB0\n",
		"  - name: board2\n    match: 10c4:ea60:0002   # /dev/ttyUSB1\n",
		"  - name: board3\n    port: /dev/ttyUSB2   # no serial number tells it from the other 1a86:7523 boards",
		"  - name: board4\n    port: /dev/ttyUSB3",
	} {
		if !strings.Contains(got, want) {
			t.Fatalf("missing %q in\n%s", want, got)
		}
	}
}
