package bus

import (
	"bufio"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wsbridge/wsbridge/internal/bus/natstest"
	"github.com/wsbridge/wsbridge/internal/frame"
)

// mqttBoard is a minimal MQTT 3.1.1 client, as a board's PubSubClient
// speaks it: CONNECT, PUBLISH at QoS 0 or 1, SUBSCRIBE.
type mqttBoard struct {
	t    *testing.T
	conn net.Conn
	r    *bufio.Reader
	id   uint16
	got  chan []byte // payloads of PUBLISH packets from the server
}

func dialMQTT(t *testing.T, addr, clientID string) *mqttBoard {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	b := &mqttBoard{t: t, conn: conn, r: bufio.NewReader(conn), got: make(chan []byte, 16)}
	vh := append(mqttStr("MQTT"), 4, 0x02, 0, 60) // level 4, clean session, keepalive 60 s
	b.send(0x10, append(vh, mqttStr(clientID)...))
	if typ, body := b.read(); typ != 0x20 || len(body) != 2 || body[1] != 0 {
		t.Fatalf("CONNACK: type %#x body %x", typ, body)
	}
	return b
}

func mqttStr(s string) []byte {
	return append(binary.BigEndian.AppendUint16(nil, uint16(len(s))), s...)
}

func (b *mqttBoard) send(header byte, body []byte) {
	pkt := []byte{header}
	for n := len(body); ; {
		d := byte(n % 128)
		if n /= 128; n > 0 {
			d |= 0x80
		}
		pkt = append(pkt, d)
		if n == 0 {
			break
		}
	}
	if _, err := b.conn.Write(append(pkt, body...)); err != nil {
		b.t.Fatal(err)
	}
}

func (b *mqttBoard) read() (byte, []byte) {
	typ, body, err := b.readPacket(10 * time.Second)
	if err != nil {
		b.t.Fatalf("MQTT read: %v", err)
	}
	return typ, body
}

func (b *mqttBoard) readPacket(timeout time.Duration) (byte, []byte, error) {
	_ = b.conn.SetReadDeadline(time.Now().Add(timeout))
	typ, err := b.r.ReadByte()
	if err != nil {
		return 0, nil, err
	}
	n, mult := 0, 1
	for {
		d, err := b.r.ReadByte()
		if err != nil {
			return 0, nil, err
		}
		n += int(d&0x7f) * mult
		if d&0x80 == 0 {
			break
		}
		mult *= 128
	}
	body := make([]byte, n)
	_, err = io.ReadFull(b.r, body)
	return typ, body, err
}

// publish sends payload on topic, at QoS 1 (waiting for PUBACK) or 0.
func (b *mqttBoard) publish(topic string, payload []byte, qos1 bool) {
	if !qos1 {
		b.send(0x30, append(mqttStr(topic), payload...))
		return
	}
	b.id++
	b.send(0x32, append(binary.BigEndian.AppendUint16(mqttStr(topic), b.id), payload...))
	for {
		typ, body := b.read()
		if typ&0xf0 == 0x40 && binary.BigEndian.Uint16(body) == b.id {
			return
		}
		b.handle(typ, body)
	}
}

func (b *mqttBoard) subscribe(filter string) {
	b.id++
	b.send(0x82, append(append(binary.BigEndian.AppendUint16(nil, b.id), mqttStr(filter)...), 0))
	if typ, body := b.read(); typ != 0x90 || body[len(body)-1] > 2 {
		b.t.Fatalf("SUBACK: type %#x body %x", typ, body)
	}
}

func (b *mqttBoard) handle(typ byte, body []byte) {
	if typ&0xf0 == 0x30 { // PUBLISH from the server, QoS 0
		tl := int(binary.BigEndian.Uint16(body))
		b.got <- body[2+tl:]
	}
}

// recordingPub is a source.Publisher keeping what a source hands it.
type recordingPub struct {
	mu     sync.Mutex
	frames []uint32
	values []int64
	logs   []string
	states []string
}

func (p *recordingPub) Packet(pk *frame.Packet) {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch pk.Type {
	case frame.TypeData:
		p.frames = append(p.frames, pk.Frame.Seq)
		for i := range int(pk.Frame.Count) {
			p.values = append(p.values, pk.Frame.Int(i, 0))
		}
	case frame.TypeLog:
		p.logs = append(p.logs, string(pk.Text))
	}
}
func (p *recordingPub) Up(r string) { p.mu.Lock(); p.states = append(p.states, "up "+r); p.mu.Unlock() }
func (p *recordingPub) Down(r string) {
	p.mu.Lock()
	p.states = append(p.states, "down "+r)
	p.mu.Unlock()
}

func (p *recordingPub) wait(t *testing.T, what string, cond func(p *recordingPub) bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		p.mu.Lock()
		ok := cond(p)
		p.mu.Unlock()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s: frames %v values %v states %q", what, p.frames, p.values, p.states)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// A board that publishes MQTT to nats-server feeds a channel: v1 packets
// keep the board's seq (a skipped frame is the channel's exact gap), text
// and JSON are numbered by serve, commands reach the board on <topic>/cmd,
// silence is the device going down.
func TestMQTTBoard(t *testing.T) {
	n := natstest.RunServer(t, natstest.WithMQTT())
	c := dial(t, n.URL())
	src, err := c.NewMQTTSource(MQTTOptions{Channel: "mic", Topic: "lab1/mic", Silence: 500 * time.Millisecond, Log: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	pub := &recordingPub{}
	run(t, func(ctx context.Context) error { return src.Run(ctx, pub) })
	c.nc.Flush() // the subscription is in place before the board publishes

	board := dialMQTT(t, n.MQTTAddr(), "esp32-mic")
	board.subscribe("lab1/mic/cmd")
	for seq := uint32(0); seq < 100; seq++ {
		if seq >= 50 && seq <= 52 {
			continue // lost on the board's side: the channel will name 50..52
		}
		board.publish("lab1/mic", testPacket(seq), seq%2 == 0)
	}
	pub.wait(t, "frames 0..99 without 50..52", func(p *recordingPub) bool { return len(p.frames) == 97 })
	want := slices.Concat(seqRange(0, 49), seqRange(53, 99))
	if !slices.Equal(pub.frames, want) {
		t.Fatalf("frames %v", pub.frames)
	}

	if err := src.Command("rate 8000"); err != nil {
		t.Fatal(err)
	}
	go func() { // until the connection closes at the test's end
		for {
			typ, body, err := board.readPacket(time.Minute)
			if err != nil {
				return
			}
			board.handle(typ, body)
		}
	}()
	select {
	case cmd := <-board.got:
		if string(cmd) != "rate 8000\n" {
			t.Fatalf("command %q", cmd)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the board did not get the command on lab1/mic/cmd")
	}

	pub.wait(t, "down after 500ms of silence", func(p *recordingPub) bool {
		return len(p.states) == 2 && strings.HasPrefix(p.states[1], "down no MQTT message on lab1/mic")
	})
	if pub.states[0] != "up MQTT messages on lab1/mic" {
		t.Fatalf("states %q", pub.states)
	}
}

// Text lines and JSON from an MQTT board (the tutorials' sketches).
func TestMQTTText(t *testing.T) {
	n := natstest.RunServer(t, natstest.WithMQTT())
	c := dial(t, n.URL())
	src, err := c.NewMQTTSource(MQTTOptions{Channel: "t", Topic: "garden/temp", Rate: 10, Log: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	pub := &recordingPub{}
	run(t, func(ctx context.Context) error { return src.Run(ctx, pub) })
	c.nc.Flush()
	board := dialMQTT(t, n.MQTTAddr(), "esp32-garden")
	for i := range 5 {
		board.publish("garden/temp", []byte(fmt.Sprintf("%d\n", 20+i)), true)
	}
	board.publish("garden/temp", []byte(`{"value": 25}`), true)
	pub.wait(t, "six samples", func(p *recordingPub) bool { return len(p.values) == 6 })
	if !slices.Equal(pub.values, []int64{20, 21, 22, 23, 24, 25}) {
		t.Fatalf("values %v", pub.values)
	}
}

func seqRange(a, b uint32) []uint32 {
	var s []uint32
	for q := a; q <= b; q++ {
		s = append(s, q)
	}
	return s
}

func TestMQTTTopicValidated(t *testing.T) {
	c := &Conn{}
	for _, topic := range []string{"", "a//b", "a/+/b", "a/#", "a.b", "/a"} {
		if _, err := c.NewMQTTSource(MQTTOptions{Topic: topic}); err == nil || !strings.Contains(err.Error(), "bus.mqtt.topic") {
			t.Errorf("topic %q: %v", topic, err)
		}
	}
}
