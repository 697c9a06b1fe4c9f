package capture

import (
	"errors"
	"strings"
	"testing"
)

var ch340 = PortInfo{Path: "/dev/ttyUSB1", USB: true, VID: "1a86", PID: "7523", Chip: "CH340", ESP32: true}
var other = PortInfo{Path: "/dev/ttyACM0", USB: true, VID: "2341", PID: "0043", Product: "Arduino Uno"}

func TestPickESP32(t *testing.T) {
	p, err := pickESP32([]PortInfo{other, cp2102})
	if err != nil || p.Path != "/dev/ttyUSB0" {
		t.Fatalf("one bridge: got %v, %v", p.Path, err)
	}
	_, err = pickESP32([]PortInfo{other})
	want := "no ESP32 board found (present: /dev/ttyACM0 (2341:0043, Arduino Uno)); plug it in, or use --port PATH or --sim"
	if !errors.Is(err, ErrNotFound) || err.Error() != want {
		t.Fatalf("none: got %v", err)
	}
	_, err = pickESP32([]PortInfo{cp2102, ch340})
	if err == nil || !strings.HasPrefix(err.Error(), "2 ESP32-like boards found") ||
		!strings.Contains(err.Error(), "--port PATH or --match VID:PID[:SERIAL]") {
		t.Fatalf("two: got %v", err)
	}
}

func TestMatchFindsByIdentity(t *testing.T) {
	m, err := ParseMatch("10C4:EA60:0001")
	if err != nil || m != (Match{VID: "10c4", PID: "ea60", Serial: "0001"}) {
		t.Fatalf("parse: %+v %v", m, err)
	}
	moved := cp2102
	moved.Path = "/dev/ttyUSB3" // re-enumerated under a new name
	p, err := m.find([]PortInfo{other, moved})
	if err != nil || p.Path != "/dev/ttyUSB3" {
		t.Fatalf("find: %v %v", p.Path, err)
	}
	if _, err := m.find([]PortInfo{other}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("absent: %v", err)
	}
	for _, bad := range []string{"10c4", "10c4:xyz1", "10c45:ea60"} {
		if _, err := ParseMatch(bad); err == nil {
			t.Errorf("ParseMatch(%q): want an error", bad)
		}
	}
}

func TestChipNames(t *testing.T) {
	for id, want := range map[string]string{"10c4:ea60": "CP210x", "1a86:7523": "CH340", "1a86:55d4": "CH9102",
		"0403:6001": "FTDI FT232R", "0403:6015": "FTDI FT-X", "303a:1001": "ESP32 native USB (USB-Serial-JTAG)",
		"303a:0002": "ESP32 native USB"} {
		chip, esp := chipOf(id[:4], id[5:])
		if chip != want || !esp {
			t.Errorf("%s: %q %v, want %q", id, chip, esp, want)
		}
	}
	if chip, esp := chipOf("2341", "0043"); chip != "" || esp {
		t.Errorf("Arduino Uno marked as %q", chip)
	}
}

func TestModemLinesAtOpen(t *testing.T) {
	o := DefaultOptions()
	m := o.mode("10c4:ea60")
	if b := m.InitialStatusBits; b == nil || b.DTR || b.RTS {
		t.Fatalf("default on a CP2102: %+v, want both off", b)
	}
	if b := o.mode("303a:1001").InitialStatusBits; b == nil || !b.DTR || !b.RTS {
		t.Fatalf("default on ESP32 native USB: %+v, want both on", b)
	}
	o.DTR, o.RTS = LineKeep, LineKeep
	if o.mode("10c4:ea60").InitialStatusBits != nil {
		t.Fatal("keep/keep must leave the lines alone")
	}
}

func TestValidateNamesTheField(t *testing.T) {
	for _, c := range []struct {
		o    Options
		want string
	}{
		{Options{DataBits: 9}, "invalid data-bits 9"},
		{Options{Parity: "odd2"}, `invalid parity "odd2"`},
		{Options{StopBits: "3"}, `invalid stop-bits "3"`},
		{Options{DTR: "yes"}, `invalid dtr "yes"`},
		{Options{Input: "bin"}, `invalid input "bin"`},
		{Options{Match: "x"}, `invalid match "x"`},
		{Options{FrameSamples: -1}, "invalid text-frame-samples -1"},
		{Options{Baud: -9600}, "invalid baud -9600"},
	} {
		_, err := New(c.o)
		if err == nil || !strings.HasPrefix(err.Error(), c.want) {
			t.Errorf("%+v: got %v, want %s...", c.o, err, c.want)
		}
	}
}
