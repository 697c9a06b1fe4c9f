package natstest

import (
	"bufio"
	"encoding/binary"
	"io"
	"net"
	"testing"
	"time"
)

// MQTTBoard is a minimal MQTT 3.1.1 client, as a board's PubSubClient or
// esp-mqtt speaks it: CONNECT, PUBLISH at QoS 0 or 1, SUBSCRIBE, and the
// payloads of PUBLISH packets the server sends it (Got). Its methods are
// for the test's goroutine, except ReadLoop.
type MQTTBoard struct {
	t    testing.TB
	conn net.Conn
	r    *bufio.Reader
	id   uint16
	Got  chan []byte // payloads of PUBLISH packets from the server, once ReadLoop runs
}

// DialMQTT connects to a node's MQTT listener (WithMQTT) as clientID.
func DialMQTT(t testing.TB, addr, clientID string) *MQTTBoard {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	b := &MQTTBoard{t: t, conn: conn, r: bufio.NewReader(conn), Got: make(chan []byte, 16)}
	vh := append(mqttStr("MQTT"), 4, 0x02, 0, 60) // level 4, clean session, keepalive 60 s
	b.send(0x10, append(vh, mqttStr(clientID)...))
	if typ, body := b.read(); typ != 0x20 || len(body) != 2 || body[1] != 0 {
		t.Fatalf("natstest: MQTT CONNACK: type %#x body %x", typ, body)
	}
	return b
}

func mqttStr(s string) []byte {
	return append(binary.BigEndian.AppendUint16(nil, uint16(len(s))), s...)
}

func (b *MQTTBoard) send(header byte, body []byte) {
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
		b.t.Fatalf("natstest: MQTT write: %v", err)
	}
}

func (b *MQTTBoard) read() (byte, []byte) {
	typ, body, err := b.readPacket(10 * time.Second)
	if err != nil {
		b.t.Fatalf("natstest: MQTT read: %v", err)
	}
	return typ, body
}

func (b *MQTTBoard) readPacket(timeout time.Duration) (byte, []byte, error) {
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

// Publish sends payload on topic, at QoS 1 (waiting for PUBACK) or 0.
func (b *MQTTBoard) Publish(topic string, payload []byte, qos1 bool) {
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

// Subscribe subscribes to filter at QoS 0.
func (b *MQTTBoard) Subscribe(filter string) {
	b.id++
	b.send(0x82, append(append(binary.BigEndian.AppendUint16(nil, b.id), mqttStr(filter)...), 0))
	if typ, body := b.read(); typ != 0x90 || body[len(body)-1] > 2 {
		b.t.Fatalf("natstest: MQTT SUBACK: type %#x body %x", typ, body)
	}
}

// ReadLoop delivers what the server publishes to Got until the
// connection closes (the test's end). Run it in a goroutine once the
// board only listens.
func (b *MQTTBoard) ReadLoop() {
	for {
		typ, body, err := b.readPacket(time.Minute)
		if err != nil {
			return
		}
		b.handle(typ, body)
	}
}

func (b *MQTTBoard) handle(typ byte, body []byte) {
	if typ&0xf0 == 0x30 { // PUBLISH from the server, QoS 0
		tl := int(binary.BigEndian.Uint16(body))
		b.Got <- body[2+tl:]
	}
}
