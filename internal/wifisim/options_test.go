package wifisim

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestValidateNamesTheFlag(t *testing.T) {
	for _, c := range []struct {
		edit func(o *Options)
		says string
	}{
		{func(o *Options) { o.URL = "http://host/pub/x" }, "publish: want ws://HOST:PORT/pub/NAME"},
		{func(o *Options) { o.URL = "ws://host:8080/ws/x" }, "publish: want ws://HOST:PORT/pub/NAME"},
		{func(o *Options) { o.Boot = "a b" }, "boot: bad boot="},
		{func(o *Options) { o.Format = "csv" }, "publish-format: want v1, text or json"},
		{func(o *Options) { o.RingBytes = 100 }, "ring-bytes: at least 1024"},
		{func(o *Options) { o.ReconnectInterval = 0 }, "reconnect-interval: must be positive"},
		{func(o *Options) { o.Heartbeat = Heartbeat{Interval: time.Second} }, "heartbeat:"},
		{func(o *Options) { o.Faults.StallEvery, o.Faults.StallFor = time.Second, 0 }, "stalls need --stall-for"},
		{func(o *Options) { o.Device.Wire = "text" }, "wire: a Wi-Fi board makes frames"},
		{func(o *Options) { o.Device.Rate = 0 }, "rate: must be"},
	} {
		o := DefaultOptions()
		o.URL = "ws://127.0.0.1:8080/pub/garden"
		c.edit(&o)
		_, err := New(o)
		if !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), c.says) {
			t.Errorf("want an ErrConfig saying %q, got %v", c.says, err)
		}
	}
	o := DefaultOptions()
	o.URL = "wss://lab.example:8443/pub/garden"
	b, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	if len(b.Boot()) != 8 {
		t.Fatalf("boot %q: want 8 random hex digits", b.Boot())
	}
}

func TestDisplayURLHidesTheToken(t *testing.T) {
	if got := DisplayURL("ws://h:1/pub/x?token=s3cret&boot=1"); strings.Contains(got, "s3cret") || !strings.Contains(got, "token=REDACTED") {
		t.Fatalf("DisplayURL = %q", got)
	}
	if got := DisplayURL("ws://h:1/pub/x"); got != "ws://h:1/pub/x" {
		t.Fatalf("DisplayURL = %q", got)
	}
}
