package bus

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wsbridge/wsbridge/internal/bus/natstest"
	"github.com/wsbridge/wsbridge/internal/frame"
)

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

	board := natstest.DialMQTT(t, n.MQTTAddr(), "esp32-mic")
	board.Subscribe("lab1/mic/cmd")
	for seq := uint32(0); seq < 100; seq++ {
		if seq >= 50 && seq <= 52 {
			continue // lost on the board's side: the channel will name 50..52
		}
		board.Publish("lab1/mic", testPacket(seq), seq%2 == 0)
	}
	pub.wait(t, "frames 0..99 without 50..52", func(p *recordingPub) bool { return len(p.frames) == 97 })
	want := slices.Concat(seqRange(0, 49), seqRange(53, 99))
	if !slices.Equal(pub.frames, want) {
		t.Fatalf("frames %v", pub.frames)
	}

	if err := src.Command("rate 8000"); err != nil {
		t.Fatal(err)
	}
	go board.ReadLoop()
	select {
	case cmd := <-board.Got:
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
	board := natstest.DialMQTT(t, n.MQTTAddr(), "esp32-garden")
	for i := range 5 {
		board.Publish("garden/temp", []byte(fmt.Sprintf("%d\n", 20+i)), true)
	}
	board.Publish("garden/temp", []byte(`{"value": 25}`), true)
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
		if _, err := c.NewMQTTSource(MQTTOptions{Topic: topic}); err == nil || !strings.Contains(err.Error(), "bus.mqtt[].topic") {
			t.Errorf("topic %q: %v", topic, err)
		}
	}
}
