package ingest_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/wsbridge/wsbridge/internal/ingest"
)

func TestGreetingRoundTrip(t *testing.T) {
	last := uint32(1234)
	for _, g := range []ingest.Greeting{
		{Type: "hello", Protocol: 1, Server: "wsbridge dev", Role: ingest.RolePublisher, Channel: "garden",
			Epoch: "9f86d081", Boot: "5e2a91c0", LastSeq: &last, Commands: true},
		{Type: "hello", Protocol: 1, Role: ingest.RolePublisher, Channel: "mic"},
	} {
		b, err := json.Marshal(g)
		if err != nil {
			t.Fatal(err)
		}
		if !ingest.IsGreeting(b) {
			t.Fatalf("%s does not start with %s", b, ingest.GreetingPrefix)
		}
		if g.LastSeq == nil && !strings.Contains(string(b), `"last_seq":null`) {
			t.Fatalf("%s: no last seq must be sent as null", b)
		}
		back, err := ingest.ParseGreeting(b)
		if err != nil || back.Channel != g.Channel || (back.LastSeq == nil) != (g.LastSeq == nil) ||
			back.LastSeq != nil && *back.LastSeq != *g.LastSeq {
			t.Fatalf("round trip of %s: %+v, %v", b, back, err)
		}
	}
	for _, bad := range []string{"rate 8000", `{"type":"hello","role":"subscriber"}`, `{"type":"hello",`} {
		if _, err := ingest.ParseGreeting([]byte(bad)); err == nil {
			t.Errorf("ParseGreeting(%q) accepted", bad)
		}
	}
}

func TestCheckBoot(t *testing.T) {
	for _, ok := range []string{"", "5e2a91c0", "A_b-9", strings.Repeat("x", 32)} {
		if err := ingest.CheckBoot(ok); err != nil {
			t.Errorf("CheckBoot(%q): %v", ok, err)
		}
	}
	for _, bad := range []string{strings.Repeat("x", 33), "a b", "é", "a/b"} {
		if err := ingest.CheckBoot(bad); err == nil || !strings.Contains(err.Error(), "power-up") {
			t.Errorf("CheckBoot(%q) = %v", bad, err)
		}
	}
}
