package bus

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"gopkg.in/yaml.v3"
)

func frameEv(epoch string, first, seq uint32) Event {
	return Event{Kind: KindFrame, Epoch: epoch, Started: true, First: first, Seq: seq}
}

func TestContinuity(t *testing.T) {
	gap := func(epoch string, first, from, to uint32) Event {
		return Event{Kind: KindGap, Epoch: epoch, Started: true, First: first, From: from, Seq: to, Reason: "device"}
	}
	for _, tc := range []struct {
		name   string
		expect *[2]any // epoch, seq a resume asks for
		in     []Event
		want   []string
	}{
		{"in order", nil, []Event{frameEv("e1", 5, 7), frameEv("e1", 5, 8)}, []string{"frames e1/7..8"}},
		{"duplicate dropped", nil, []Event{frameEv("e1", 0, 7), frameEv("e1", 0, 7), frameEv("e1", 0, 6), frameEv("e1", 0, 8)},
			[]string{"frames e1/7..8"}},
		{"hole becomes a history gap", nil, []Event{frameEv("e1", 0, 7), frameEv("e1", 0, 10)},
			[]string{"frames e1/7..7", "gap e1/8..9 (history)", "frames e1/10..10"}},
		{"resume: asked 10, got 151", &[2]any{"e1", uint32(10)}, []Event{frameEv("e1", 0, 151)},
			[]string{"gap e1/10..150 (history)", "frames e1/151..151"}},
		{"resume exact", &[2]any{"e1", uint32(10)}, []Event{frameEv("e1", 0, 10)}, []string{"frames e1/10..10"}},
		{"device gap overlapping the resume is clipped", &[2]any{"e1", uint32(10)}, []Event{gap("e1", 0, 8, 12), frameEv("e1", 0, 13)},
			[]string{"gap e1/10..12 (device)", "frames e1/13..13"}},
		{"device gap after a hole", nil, []Event{frameEv("e1", 0, 1), gap("e1", 0, 5, 6), frameEv("e1", 0, 7)},
			[]string{"frames e1/1..1", "gap e1/2..4 (history)", "gap e1/5..6 (device)", "frames e1/7..7"}},
		{"new epoch without its restart", nil, []Event{frameEv("e1", 0, 1), frameEv("e2", 100, 103)},
			[]string{"frames e1/1..1", "restart e2/100", "gap e2/100..102 (history)", "frames e2/103..103"}},
		{"restart carried", nil, []Event{frameEv("e1", 0, 1), {Kind: KindRestart, Epoch: "e2", Started: true, First: 0, Seq: 0}, frameEv("e2", 0, 0)},
			[]string{"frames e1/1..1", "restart e2/0", "frames e2/0..0"}},
		{"resume from a vanished epoch", &[2]any{"old", uint32(77)}, []Event{frameEv("e2", 40, 45)},
			[]string{"restart e2/40", "gap e2/40..44 (history)", "frames e2/45..45"}},
		{"status keyed by the next seq: a hole before it", nil, []Event{frameEv("e1", 0, 1), {Kind: KindDown, Epoch: "e1", Started: true, Seq: 5}},
			[]string{"frames e1/1..1", "gap e1/2..4 (history)", `down e1/5 ""`}},
		{"a new serve's epoch: its status before the first frame, then the restart", nil,
			[]Event{frameEv("e1", 0, 1), {Kind: KindUp, Epoch: "e2", Seq: 0}, frameEv("e2", 5000, 5000)},
			[]string{"frames e1/1..1", `up e2/0 ""`, "restart e2/5000", "frames e2/5000..5000"}},
		{"wrap at 2^32", nil, []Event{frameEv("e1", 4294967290, 4294967295), frameEv("e1", 4294967290, 0), frameEv("e1", 4294967290, 2)},
			[]string{"frames e1/4294967295..0", "gap e1/1..1 (history)", "frames e1/2..2"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var c continuity
			if tc.expect != nil {
				c.expect(tc.expect[0].(string), tc.expect[1].(uint32))
			}
			var out []Event
			for i := range tc.in {
				out = c.admit(&tc.in[i], out)
			}
			if got := describe(out); !slices.Equal(got, tc.want) {
				t.Fatalf("got %q\nwant %q", got, tc.want)
			}
		})
	}
}

// memStream is a stream of probes for locate, with holes where deleted.
type memStream map[uint64]Event

func (m memStream) get(_ context.Context, seq uint64) (*probe, error) {
	var best *probe
	for s, ev := range m {
		if s >= seq && (best == nil || s < best.seq) {
			best = &probe{seq: s, ev: ev}
		}
	}
	return best, nil
}

func TestLocate(t *testing.T) {
	// Stream sequences 10..: epoch A (first 100) 100..149, then epoch B (first 0) 0..49, a hole at 35..39.
	m := memStream{}
	s := uint64(10)
	for q := uint32(100); q < 150; q++ {
		m[s] = frameEv("A", 100, q)
		s++
	}
	for q := uint32(0); q < 50; q++ {
		m[s] = frameEv("B", 0, q)
		s++
	}
	for d := uint64(35); d < 40; d++ {
		delete(m, d)
	}
	last := s - 1
	for _, tc := range []struct {
		epoch string
		seq   uint32
		want  located
	}{
		{"A", 120, located{seq: 30, found: true}},
		{"A", 100, located{seq: 10, found: true}},
		{"A", 126, located{seq: 40, found: true}}, // 126..129 deleted: the next held
		{"A", 150, located{seq: 60, found: true}}, // past A's end: B's start follows
		{"B", 0, located{seq: 60, found: true}},
		{"B", 49, located{seq: 109, found: true}},
		{"B", 50, located{seq: 110, found: true}}, // the next one, not there yet
		{"C", 5, located{seq: 60}},                // unknown epoch: the newest epoch's start
	} {
		got, err := locate(context.Background(), m.get, 10, last, tc.epoch, tc.seq)
		if err != nil || got != tc.want {
			t.Errorf("locate %s/%d = %+v, %v; want %+v", tc.epoch, tc.seq, got, err, tc.want)
		}
	}
	if got, _ := locate(context.Background(), m.get, 5, 4, "A", 1); got != (located{seq: 5}) {
		t.Errorf("empty stream: %+v", got)
	}
}

func TestLostSet(t *testing.T) {
	var l lostSet
	for _, tc := range []struct {
		lo, hi uint32
		new    uint64
	}{{10, 48, 39}, {99, 159, 61}, {10, 159, 50}, {10, 159, 0}, {200, 200, 1}} {
		if n := l.add("e", tc.lo, tc.hi); n != tc.new {
			t.Fatalf("add %d..%d: %d new, want %d", tc.lo, tc.hi, n, tc.new)
		}
	}
	if n := l.add("f", 10, 159); n != 150 {
		t.Fatalf("a new epoch starts over: %d", n)
	}
}

func TestConfig(t *testing.T) {
	var c struct {
		Bus Config `yaml:"bus"`
	}
	src := "bus:\n  url: nats://a:4222, nats://b:4222\n  site: lab1\n  stream: {max_age: 1h, max_bytes: 512MiB, replicas: 3}\n"
	if err := yaml.Unmarshal([]byte(src), &c); err != nil {
		t.Fatal(err)
	}
	c.Bus.Defaults()
	if err := c.Bus.Validate(); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(c.Bus.URL, []string{"nats://a:4222", "nats://b:4222"}) || c.Bus.Stream.MaxAge != time.Hour ||
		c.Bus.Stream.MaxBytes != 512<<20 || c.Bus.Stream.Storage != "file" || c.Bus.Prefix != "wsbridge" {
		t.Fatalf("decoded %+v", c.Bus)
	}
	for _, tc := range []struct{ mod func(*Config) string }{
		{func(c *Config) string {
			c.URL = URLList{"http://x:1"}
			return "bus.url[0]: \"http://x:1\": scheme must be nats"
		}},
		{func(c *Config) string {
			c.Stream.Replicas = 4
			c.Stream.Replicas = 7
			return "bus.stream.replicas: 1 to 5, got 7"
		}},
		{func(c *Config) string {
			c.Stream.Storage = "disk"
			return `bus.stream.storage: file or memory, got "disk"`
		}},
		{func(c *Config) string { c.Site = "lab.1"; return `bus.site: "lab.1" must be one token` }},
		{func(c *Config) string { c.Prefix = "a..b"; return `bus.prefix: "a..b": token 2 ""` }},
		{func(c *Config) string { c.Creds = "/nonexistent.creds"; return "bus.creds: stat /nonexistent.creds" }},
		{func(c *Config) string { c.Creds, c.NKey = "a", "b"; return "bus.nkey: give creds or nkey, not both" }},
	} {
		cfg := c.Bus
		want := tc.mod(&cfg)
		err := cfg.Validate()
		if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), want) {
			t.Errorf("Validate = %v, want %q", err, want)
		}
	}
	for in, want := range map[string]Bytes{"1048576": 1 << 20, "1GB": 1e9, "1 GiB": 1 << 30, "64KiB": 64 << 10} {
		if got, err := ParseBytes(in); err != nil || got != want {
			t.Errorf("ParseBytes(%q) = %d, %v", in, got, err)
		}
	}
	if _, err := ParseBytes("1.5GB"); err == nil {
		t.Error("ParseBytes(1.5GB) accepted")
	}
}

func TestVersionBefore(t *testing.T) {
	for _, tc := range []struct {
		v    string
		want bool
	}{{"2.9.25", true}, {"2.10.0", false}, {"2.10.0-beta.1", false}, {"v2.15.2", false}, {"1.4.1", true}, {"3.0.0", false}} {
		if got := versionBefore(tc.v, MinServer); got != tc.want {
			t.Errorf("versionBefore(%q) = %v", tc.v, got)
		}
	}
}

// A batch of frames round-trips exactly, is found by its last frame, and
// a damaged one is refused whole (never half applied).
func TestBatchMessage(t *testing.T) {
	evs := []Event{
		{Kind: KindFrame, Epoch: "0a0b0c0d", Started: true, First: 4294967290, Seq: 4294967295, Raw: testPacket(4294967295)},
		{Kind: KindFrame, Epoch: "0a0b0c0d", Started: true, First: 4294967290, Seq: 0, Raw: testPacket(0)}, // the wrap
		{Kind: KindFrame, Epoch: "0a0b0c0d", Started: true, First: 4294967290, Seq: 2, Raw: testPacket(2)},
	}
	m := newBatchMsg("wsbridge.lab1.mic", evs, msgID(&evs[2], 41), 7)
	if got := m.Header.Get(jetstream.MsgIDHeader); got != "0a0b0c0d.2" {
		t.Fatalf("msg id %q, want the last frame's", got)
	}
	if got := m.Header.Get(jetstream.ExpectedLastSeqHeader); got != "7" {
		t.Fatalf("expected last sequence %q", got)
	}
	if got := m.Header.Get(hdrEvent); got != "frame 0a0b0c0d 2 first=4294967290 frames=3" || len(m.Header) != 3 {
		t.Fatalf("headers %v: want Nats-Msg-Id, Nats-Expected-Last-Sequence and Wsbridge-Event", m.Header)
	}
	last, n, err := decodeEvent(m.Header, m.Data)
	if err != nil || n != 3 || last.Seq != 2 || last.Epoch != "0a0b0c0d" || !last.Started || last.First != 4294967290 {
		t.Fatalf("the batch's headers read as %v, %d frames, %v: want its last frame of 3", last.String(), n, err)
	}
	prior := []Event{{Kind: KindLog, Epoch: "x"}}
	got, err := decodeEvents(m.Header, m.Data, prior)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 4 {
		t.Fatalf("%d events, want the one before and 3", len(got))
	}
	for i, ev := range got[1:] {
		w := evs[i]
		if ev.Kind != w.Kind || ev.Epoch != w.Epoch || ev.Seq != w.Seq || ev.First != w.First || !ev.Started || !bytes.Equal(ev.Raw, w.Raw) {
			t.Fatalf("frame %d: got %s (%d bytes), want %s", i, ev.String(), len(ev.Raw), w.String())
		}
	}
	bad := map[string]func(*nats.Msg){
		"cut short":           func(m *nats.Msg) { m.Data = m.Data[:len(m.Data)-1] },
		"trailing bytes":      func(m *nats.Msg) { m.Data = append(m.Data, 0) },
		"count too high":      func(m *nats.Msg) { m.Header.Set(hdrEvent, "frame 0a0b0c0d 2 first=4294967290 frames=4") },
		"count not a number":  func(m *nats.Msg) { m.Header.Set(hdrEvent, "frame 0a0b0c0d 2 first=4294967290 frames=three") },
		"count zero":          func(m *nats.Msg) { m.Header.Set(hdrEvent, "frame 0a0b0c0d 2 first=4294967290 frames=0") },
		"last seq disagrees":  func(m *nats.Msg) { m.Header.Set(hdrEvent, "frame 0a0b0c0d 3 first=4294967290 frames=3") },
		"batch of a status":   func(m *nats.Msg) { m.Header.Set(hdrEvent, "up 0a0b0c0d 2 first=4294967290 frames=3") },
		"batch before first":  func(m *nats.Msg) { m.Header.Set(hdrEvent, "frame 0a0b0c0d 2 frames=3") },
		"length past the end": func(m *nats.Msg) { binary.LittleEndian.PutUint32(m.Data[4:], 1<<20) },
	}
	for name, spoil := range bad {
		m := newBatchMsg("wsbridge.lab1.mic", evs, "id", 7)
		spoil(m)
		got, err := decodeEvents(m.Header, m.Data, prior)
		if !errors.Is(err, ErrBadMessage) || len(got) != 1 {
			t.Errorf("%s: %d events, err %v: want ErrBadMessage and nothing appended", name, len(got), err)
		}
	}
}

// Every kind of event round-trips through format 2, and format 1 (streams
// written by earlier serves) reads the same; damaged descriptions are
// refused with ErrBadMessage.
func TestEventFormats(t *testing.T) {
	evs := []Event{
		{Kind: KindFrame, Epoch: "0a0b0c0d", Started: true, First: 1, Seq: 7, Raw: testPacket(7)},
		{Kind: KindGap, Epoch: "0a0b0c0d", Started: true, First: 1, From: 8, Seq: 11, Reason: "device"},
		{Kind: KindRestart, Epoch: "0a0b0c0e", Started: true, First: 0, Seq: 0},
		{Kind: KindUp, Epoch: "0a0b0c0e", Seq: 0, Reason: "opened /dev/ttyUSB0: 115200 baud"},
		{Kind: KindDown, Epoch: "0a0b0c0e", Started: true, First: 0, Seq: 5, Reason: "unplugged"},
		{Kind: KindLog, Epoch: "0a0b0c0e", Started: true, First: 0, Seq: 5, Raw: []byte("boot: ok")},
	}
	same := func(a, b Event) bool {
		return a.Kind == b.Kind && a.Epoch == b.Epoch && a.Started == b.Started && a.First == b.First &&
			a.Seq == b.Seq && a.From == b.From && a.Reason == b.Reason && bytes.Equal(a.Raw, b.Raw)
	}
	for i := range evs {
		ev := &evs[i]
		for name, m := range map[string]*nats.Msg{
			"format 2": newMsg("wsbridge.lab1.mic", ev, msgID(ev, 3), 9),
			"format 1": newMsgV1("wsbridge.lab1.mic", ev, msgID(ev, 3), 9, 0, nil),
		} {
			got, n, err := decodeEvent(m.Header, m.Data)
			if err != nil || n != 0 || !same(got, *ev) {
				t.Errorf("%s: %s reads back as %s (%q, %d frames), %v", name, ev.String(), got.String(), got.Reason, n, err)
			}
		}
	}
	// A format-1 batch.
	batch := []Event{evs[0], evs[0]}
	batch[1].Seq, batch[1].Raw = 8, testPacket(8)
	var body []byte
	for _, ev := range batch {
		body = binary.LittleEndian.AppendUint32(body, ev.Seq)
		body = binary.LittleEndian.AppendUint32(body, uint32(len(ev.Raw)))
		body = append(body, ev.Raw...)
	}
	got, err := decodeEvents(newMsgV1("s", &batch[1], "0a0b0c0d.8", 9, 2, body).Header, body, nil)
	if err != nil || len(got) != 2 || !same(got[0], batch[0]) || !same(got[1], batch[1]) {
		t.Errorf("format 1 batch: %d events, %v", len(got), err)
	}
	for _, v := range []string{"", "frame", "frame 0a0b0c0d", "frame 0a0b0c0d x", "nope 0a0b0c0d 1", "frame  1",
		"gap 0a0b0c0d 5 first=1", "frame 0a0b0c0d 5 first=x", "frame 0a0b0c0d 4294967296"} {
		if _, _, err := decodeEvent(nats.Header{hdrEvent: {v}}, nil); !errors.Is(err, ErrBadMessage) {
			t.Errorf("Wsbridge-Event %q: err %v, want ErrBadMessage", v, err)
		}
	}
}
