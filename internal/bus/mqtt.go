package bus

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/rs/zerolog"

	"github.com/wsbridge/wsbridge/internal/frame"
	"github.com/wsbridge/wsbridge/internal/ingest"
	"github.com/wsbridge/wsbridge/internal/source"
)

// MQTTOptions configure an MQTT source.
type MQTTOptions struct {
	Channel string // the channel's name (logs)
	// Topic is the MQTT topic the board publishes to (lab1/mic). nats-server's
	// MQTT listener delivers it on the NATS subject with / made . (lab1.mic).
	Topic string
	Input string // auto (default), v1, text, json: as for /pub (package ingest)
	Rate  uint32 // text/JSON: the rate to announce; 0 measures it
	// Silence: no message for this long and the device is reported down
	// (MQTT gives a subscriber no sign of the board's connection). Default 5 s.
	Silence time.Duration
	Log     zerolog.Logger
}

var mqttTopicRE = regexp.MustCompile(`^[A-Za-z0-9_-]+(/[A-Za-z0-9_-]+)*$`)

// MQTTSource is the source of a channel whose board publishes MQTT 3.1.1
// to nats-server's MQTT listener (the bus's own servers speak MQTT): what
// PubSubClient or esp-mqtt sketches do. Each MQTT message is one message
// as on /pub: a binary v1 packet (with the device's seq: gaps are exact),
// text lines of numbers, or JSON such as {"value": 1234}; the channel
// classifies the seqs as for any device. Command publishes the line on
// <topic>/cmd, which the board subscribes to.
//
// MQTT QoS 0 and 1 both work; frames published while no serve is
// subscribed are not kept (a v1 board's next frame then shows the exact
// gap). The channel itself is published to the bus like any local one.
type MQTTSource struct {
	c       *Conn
	o       MQTTOptions
	subject string
	dec     *ingest.Decoder // owned by Run

	up                                atomic.Bool
	messages, refused, slow, commands atomic.Uint64
}

var _ source.Source = (*MQTTSource)(nil)

// NewMQTTSource checks o and prepares the source; Run starts it.
func (c *Conn) NewMQTTSource(o MQTTOptions) (*MQTTSource, error) {
	if !mqttTopicRE.MatchString(o.Topic) {
		return nil, fieldErr("mqtt[].topic", "%q: want levels of letters, digits, - or _ separated by / (e.g. lab1/mic)", o.Topic)
	}
	if o.Silence <= 0 {
		o.Silence = 5 * time.Second
	}
	dec, err := ingest.NewDecoder(ingest.Options{Input: o.Input, Rate: o.Rate})
	if err != nil {
		return nil, fieldErr("mqtt.input", "%v", err)
	}
	return &MQTTSource{c: c, o: o, subject: strings.ReplaceAll(o.Topic, "/", "."), dec: dec}, nil
}

// Subject is the NATS subject the board's topic arrives on.
func (s *MQTTSource) Subject() string { return s.subject }

// Run subscribes and feeds pub until ctx ends. The subscription's
// messages are handed to Run's goroutine, which alone decodes and calls
// pub, in order; a full hand-over queue drops messages (counted as slow,
// and a v1 board's next frame shows the exact gap).
func (s *MQTTSource) Run(ctx context.Context, pub source.Publisher) error {
	msgs := make(chan *nats.Msg, 4096)
	sub, err := s.c.nc.ChanSubscribe(s.subject, msgs)
	if err != nil {
		return fmt.Errorf("failed to subscribe to %s: %w", s.subject, err)
	}
	defer func() { _ = sub.Unsubscribe() }()
	_ = sub.SetPendingLimits(4096, 64<<20)
	silence := time.NewTimer(s.o.Silence)
	defer silence.Stop()
	var lastDropped int
	for {
		select {
		case <-ctx.Done():
			return nil
		case m := <-msgs:
			if d, _ := sub.Dropped(); d > lastDropped {
				s.slow.Add(uint64(d - lastDropped))
				lastDropped = d
			}
			if !s.up.Swap(true) {
				pub.Up("MQTT messages on " + s.o.Topic)
			}
			silence.Reset(s.o.Silence)
			s.message(m.Data, pub)
		case <-silence.C:
			if s.up.Swap(false) {
				pub.Down(fmt.Sprintf("no MQTT message on %s for %v", s.o.Topic, s.o.Silence))
			}
		}
	}
}

func (s *MQTTSource) message(data []byte, pub source.Publisher) {
	s.messages.Add(1)
	// MQTT payloads carry no text/binary flag: a v1 packet starts with its
	// version byte 0x01, which no text line or JSON object does.
	binary := s.o.Input == ingest.InputV1 || (s.o.Input != ingest.InputText && s.o.Input != ingest.InputJSON &&
		len(data) > 0 && data[0] == frame.Version)
	if err := s.dec.Decode(binary, data, pub.Packet); err != nil {
		if n := s.refused.Add(1); n&(n-1) == 0 { // 1, 2, 4, ...: visible without flooding the log
			s.o.Log.Warn().Err(err).Str("topic", s.o.Topic).Uint64("refused", n).Msg("MQTT message refused")
		}
	}
}

// Command publishes line on <topic>/cmd.
func (s *MQTTSource) Command(line string) error {
	if !s.up.Load() {
		return fmt.Errorf("%w: no MQTT message on %s lately", source.ErrDown, s.o.Topic)
	}
	if err := s.c.nc.Publish(s.subject+".cmd", []byte(line+"\n")); err != nil {
		return fmt.Errorf("failed to publish the command on %s/cmd: %w", s.o.Topic, err)
	}
	s.commands.Add(1)
	return nil
}

// Counters reports the source's counters for /metrics.
func (s *MQTTSource) Counters() []source.Counter {
	up := 0.0
	if s.up.Load() {
		up = 1
	}
	return []source.Counter{
		{Name: "mqtt_up", Help: "1 while MQTT messages arrive", Value: up, Gauge: true},
		{Name: "mqtt_messages_total", Help: "MQTT messages received", Value: float64(s.messages.Load())},
		{Name: "mqtt_refused_total", Help: "MQTT messages that were not v1 packets, numbers or JSON", Value: float64(s.refused.Load())},
		{Name: "mqtt_slow_dropped_total", Help: "MQTT messages the NATS client dropped because serve fell behind", Value: float64(s.slow.Load())},
		{Name: "mqtt_commands_total", Help: "command lines published to the board", Value: float64(s.commands.Load())},
	}
}
