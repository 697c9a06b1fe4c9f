package relay

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/rs/zerolog"

	"github.com/wsbridge/wsbridge/internal/frame"
	"github.com/wsbridge/wsbridge/internal/wsproto"
)

// Test stream: 2 channels of i16, 16 samples per frame at 16 kHz: 1 ms per frame.
const (
	tCount = 16
	tChans = 2
	tRate  = 16000
)

// testServer starts a Server on 127.0.0.1:0 with one channel,
// "default" (or as co says), and stops it at cleanup. It returns the
// channel: the tests' device publishes into it.
func testServer(t testing.TB, o Options, co ...ChannelOptions) (*Channel, string) {
	t.Helper()
	o.Listen = "127.0.0.1:0"
	o.Log = zerolog.Nop()
	if os.Getenv("RELAY_TEST_LOG") != "" {
		o.Log = zerolog.New(zerolog.ConsoleWriter{Out: os.Stderr}).With().Timestamp().Logger()
	}
	s, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	chOpts := ChannelOptions{Name: "default"}
	if len(co) > 0 {
		chOpts = co[0]
	}
	ch, err := s.AddChannel(chOpts)
	if err != nil {
		t.Fatal(err)
	}
	base, cancel, done := serve(t, s)
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return ch, base
}

// serve listens and serves s until cancel; done then receives Serve's
// result. Tests that stop the server themselves use it directly.
func serve(t testing.TB, s *Server) (base string, cancel context.CancelFunc, done <-chan error) {
	t.Helper()
	base, err := s.Listen()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- s.Serve(ctx) }()
	return base, cancel, errc
}

// counterPacket is data frame seq of the counter signal: sample i of
// channel c is (seq*count + i + c) in the sample type's range.
func counterPacket(t testing.TB, seq uint32, count, chans int, st frame.SampleType) *frame.Packet {
	t.Helper()
	f := frame.Frame{Seq: seq, TimeUS: uint64(seq) * 1000, Rate: tRate, Channels: uint8(chans), SampleType: st, Count: uint16(count)}
	f.Data = make([]byte, f.PayloadSize())
	base := int64(seq) * int64(count)
	for i := 0; i < count; i++ {
		for c := 0; c < chans; c++ {
			f.PutInt(i, c, base+int64(i+c))
		}
	}
	return packetOf(t, &f)
}

// packetOf encodes f and parses it back: a packet as capture delivers it.
func packetOf(t testing.TB, f *frame.Frame) *frame.Packet {
	t.Helper()
	raw, err := frame.AppendFrame(nil, f)
	if err != nil {
		t.Fatal(err)
	}
	var p frame.Packet
	if err := frame.Parse(&p, raw); err != nil {
		t.Fatal(err)
	}
	return &p
}

// publish sends counter frames seqs[0]..seqs[1]-1 (exclusive end).
func publish(t testing.TB, s *Channel, from, to uint32) {
	t.Helper()
	for seq := from; seq != to; seq++ {
		s.Packet(counterPacket(t, seq, tCount, tChans, frame.I16))
	}
}

func wantSample(seq uint32, i, c int) int64 {
	return int64(int16(int64(seq)*tCount + int64(i+c)))
}

// msg is one message a test client received.
type msg struct {
	typ    string // hello, frame, csv, gap, status, error, reply, info, log
	seq    uint32 // frame (binary and json)
	values [][]int64
	gap    wsproto.Gap
	status wsproto.Status
	hello  wsproto.Hello
	err    wsproto.Error
	reply  wsproto.Reply
	raw    []byte
}

// read reads one message within d and decodes it.
func read(t testing.TB, c *websocket.Conn, d time.Duration) (msg, error) {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	typ, b, err := c.Read(ctx)
	if err != nil {
		return msg{}, err
	}
	if typ == websocket.MessageBinary {
		return decodeBinary(b)
	}
	return decodeText(b)
}

func decodeBinary(b []byte) (msg, error) {
	var p frame.Packet
	if err := frame.Parse(&p, b); err != nil {
		return msg{}, err
	}
	m := msg{typ: "frame", seq: p.Frame.Seq, raw: b}
	for i := 0; i < int(p.Frame.Count); i++ {
		row := make([]int64, p.Frame.Channels)
		for c := range row {
			row[c] = p.Frame.Int(i, c)
		}
		m.values = append(m.values, row)
	}
	return m, nil
}

func decodeText(b []byte) (msg, error) {
	m := msg{raw: b}
	if len(b) == 0 || b[0] != '{' {
		m.typ = "csv"
		for _, line := range strings.Split(strings.TrimSuffix(string(b), "\n"), "\n") {
			var row []int64
			for _, f := range strings.Split(line, ",") {
				v, err := strconv.ParseInt(f, 10, 64)
				if err != nil {
					return m, fmt.Errorf("csv %q: %w", b, err)
				}
				row = append(row, v)
			}
			m.values = append(m.values, row)
		}
		return m, nil
	}
	var probe struct {
		Type    string    `json:"type"`
		Seq     uint32    `json:"seq"`
		Samples [][]int64 `json:"samples"`
	}
	if err := json.Unmarshal(b, &probe); err != nil {
		return m, err
	}
	m.typ, m.seq = probe.Type, probe.Seq
	var err error
	switch probe.Type {
	case "frame":
		for i := range probe.Samples[0] { // per channel -> per instant
			row := make([]int64, len(probe.Samples))
			for c := range row {
				row[c] = probe.Samples[c][i]
			}
			m.values = append(m.values, row)
		}
	case wsproto.TypeHello:
		err = json.Unmarshal(b, &m.hello)
	case wsproto.TypeGap:
		err = json.Unmarshal(b, &m.gap)
	case wsproto.TypeStatus:
		err = json.Unmarshal(b, &m.status)
	case wsproto.TypeError:
		err = json.Unmarshal(b, &m.err)
	case wsproto.TypeReply:
		err = json.Unmarshal(b, &m.reply)
	}
	return m, err
}

// checkFrame verifies the counter samples of frame seq.
func checkFrame(t testing.TB, m msg, seq uint32) {
	t.Helper()
	if len(m.values) != tCount {
		t.Fatalf("frame %d: %d sample instants, want %d", seq, len(m.values), tCount)
	}
	for i, row := range m.values {
		for c, v := range row {
			if w := wantSample(seq, i, c); v != w {
				t.Fatalf("frame %d sample %d ch %d = %d, want %d", seq, i, c, v, w)
			}
		}
	}
}

// expectFrames reads frames from..to-1 (exclusive) and checks each one's
// seq and samples. CSV frames carry no seq: their position tells it.
func expectFrames(t testing.TB, c *websocket.Conn, from, to uint32) {
	t.Helper()
	for seq := from; seq != to; seq++ {
		m, err := read(t, c, 5*time.Second)
		if err != nil {
			t.Fatalf("reading frame %d: %v", seq, err)
		}
		if m.typ != "frame" && m.typ != "csv" {
			t.Fatalf("want frame %d, got %s %s", seq, m.typ, m.raw)
		}
		if m.typ == "frame" && m.seq != seq {
			t.Fatalf("got frame %d, want %d", m.seq, seq)
		}
		checkFrame(t, m, seq)
	}
}

// expectMsg reads one message and checks its type.
func expectMsg(t testing.TB, c *websocket.Conn, typ string) msg {
	t.Helper()
	m, err := read(t, c, 5*time.Second)
	if err != nil {
		t.Fatalf("want %s, got error %v", typ, err)
	}
	if m.typ != typ {
		t.Fatalf("want %s, got %s %s", typ, m.typ, m.raw)
	}
	return m
}

func wsURL(base, query string) string {
	u := WSURL(base)
	if query != "" {
		u += "?" + query
	}
	return u
}

func clients(ch *Channel) int { return len(ch.Info().Clients) }
