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
