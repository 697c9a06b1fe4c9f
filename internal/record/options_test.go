package record

import (
	"errors"
	"testing"
)

func TestParseSize(t *testing.T) {
	for in, want := range map[string]int64{"1048576": 1 << 20, "500k": 500e3, "100MB": 100e6, "1GiB": 1 << 30,
		"64KiB": 64 << 10, "2.5 MB": 2.5e6, "1gb": 1e9} {
		if got, err := parseSize(in); err != nil || got != want {
			t.Errorf("parseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "MB", "-1MB", "10 parsecs", "1e3x"} {
		if _, err := parseSize(in); err == nil {
			t.Errorf("parseSize(%q) accepted", in)
		}
	}
}

func TestValidateDefaultsAndErrors(t *testing.T) {
	o := Options{URLs: []string{"http://h:8080"}, Dir: t.TempDir(), Labels: []string{"a=1", "b=x=y"}}
	if err := o.Validate(); err != nil {
		t.Fatal(err)
	}
	if o.URLs[0] != "ws://h:8080/ws" || o.Format != FormatAuto || o.OnGap != GapSplit || o.labels["b"] != "x=y" {
		t.Errorf("validated: %+v", o)
	}
	for _, bad := range []Options{
		{URLs: []string{"ws://h/ws"}, Dir: t.TempDir(), Format: "mp3"},
		{URLs: []string{"ws://h/ws"}, Dir: t.TempDir(), Labels: []string{"a=1", "a=2"}},
		{URLs: []string{"ws://h/ws"}, Dir: t.TempDir(), RotateEvery: 1},
		{URLs: []string{"ws://h/ws"}, Dir: t.TempDir(), RotateSize: "1kB"},
		{URLs: []string{"ws://h/ws"}, Dir: t.TempDir(), CACert: "ca.pem"},
	} {
		if err := bad.Validate(); !errors.Is(err, ErrOptions) {
			t.Errorf("%+v: %v, want ErrOptions", bad, err)
		}
	}
}
