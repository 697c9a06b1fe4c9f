//go:build unix

package bus_test

import (
	"context"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/wsbridge/wsbridge/internal/bus"
	"github.com/wsbridge/wsbridge/internal/testsupport"
)

// BenchmarkNATSFloor is what nats.go alone costs per message on the path
// BenchmarkBusCPU's with_bus takes, with no wsbridge code on it: one
// connection publishes 340-byte messages at 1000 a second for 10 s with
// a Nats-Msg-Id header and waits for each JetStream ack (serve A's
// part), another consumes them with an ordered consumer whose callback
// only counts (serve B's part), through one nats-server process on
// loopback, the connections dialled as serve dials them. "core" does the
// same with core NATS (publish, subscription callback, no store, no ack);
// "none" is the pacing alone (a ticker at 1000 a second), which every
// path here and in BusCPU pays.
//
// It is the floor under BusCPU's with_bus: wsbridge's CPU per frame with
// the bus is about without_bus plus jetstream minus none (the frame still
// enters serve A and leaves serve B to the client; the pacing is paid
// once), so BusCPU's 2x goal needs jetstream minus none to be at most
// without_bus's figure. Run them together:
//
//	go test -run '^$' -bench 'BusCPU|NATSFloor' -benchtime 1x ./internal/bus/
func BenchmarkNATSFloor(b *testing.B) {
	for _, mode := range []string{"jetstream", "core", "none"} {
		b.Run(mode, func(b *testing.B) {
			var got atomic.Int64
			publish := func(int) { got.Add(1) }
			if mode != "none" {
				url := natsURL(runNATSProcs(b, 1))
				pub, sub := floorConn(b, url), floorConn(b, url)
				if mode == "jetstream" {
					publish = floorJetStream(b, pub, sub, &got)
				} else {
					publish = floorCore(b, pub, sub, &got)
				}
			}
			time.Sleep(500 * time.Millisecond) // settle: connections, consumer
			c0, w0 := cpu(), time.Now()
			s0, y0 := sleeps()
			b.ResetTimer()
			n := pace(1000, 10*time.Second, publish)
			testsupport.WaitFor(b, 30*time.Second, "every message consumed", func() bool { return got.Load() >= int64(n) })
			b.StopTimer()
			used, wall := cpu()-c0, time.Since(w0)
			s1, y1 := sleeps()
			b.ReportMetric(float64(used.Microseconds())/float64(n), "cpu_µs/msg")
			b.ReportMetric(float64(s1-s0)/float64(n), "sleeps/msg")
			b.ReportMetric(float64(y1-y0)/float64(n), "rw_syscalls/msg")
			b.ReportMetric(100*used.Seconds()/wall.Seconds(), "cpu_%")
		})
	}
}

func floorConn(b *testing.B, url string) *nats.Conn {
	opts := []nats.Option{nats.Name("floor")}
	if d := bus.RawDialerForTest(); d != nil {
		opts = append(opts, nats.SetCustomDialer(d))
	}
	nc, err := nats.Connect(url, opts...)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(nc.Close)
	return nc
}

// floorJetStream sets up the stream, the publisher with an ack waiter
// and the ordered consumer, and returns the publish of message i.
func floorJetStream(b *testing.B, pub, sub *nats.Conn, got *atomic.Int64) func(i int) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	js, err := jetstream.New(pub, jetstream.WithPublishAsyncMaxPending(1<<20))
	if err != nil {
		b.Fatal(err)
	}
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "FLOOR", Subjects: []string{"floor.>"},
		Storage: jetstream.FileStorage, MaxAge: time.Minute}); err != nil {
		b.Fatal(err)
	}
	jsSub, err := jetstream.New(sub)
	if err != nil {
		b.Fatal(err)
	}
	cons, err := jsSub.OrderedConsumer(ctx, "FLOOR", jetstream.OrderedConsumerConfig{})
	if err != nil {
		b.Fatal(err)
	}
	cc, err := cons.Consume(func(m jetstream.Msg) { got.Add(1) })
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(cc.Stop)
	acks := make(chan jetstream.PubAckFuture, 4096)
	go func() {
		for f := range acks {
			select {
			case <-f.Ok():
			case err := <-f.Err():
				b.Errorf("publish failed: %v", err)
			}
		}
	}()
	b.Cleanup(func() { close(acks) })
	payload := make([]byte, 340)
	return func(i int) {
		m := &nats.Msg{Subject: "floor.mic", Data: payload, Header: nats.Header{}}
		m.Header.Set(jetstream.MsgIDHeader, "e:"+strconv.Itoa(i))
		f, err := js.PublishMsgAsync(m)
		if err != nil {
			b.Fatal(err)
		}
		acks <- f
	}
}

// floorCore: a plain publish and a subscription callback.
func floorCore(b *testing.B, pub, sub *nats.Conn, got *atomic.Int64) func(i int) {
	s, err := sub.Subscribe("floor.mic", func(*nats.Msg) { got.Add(1) })
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = s.Unsubscribe() })
	if err := sub.Flush(); err != nil {
		b.Fatal(err)
	}
	payload := make([]byte, 340)
	return func(int) {
		if err := pub.Publish("floor.mic", payload); err != nil {
			b.Fatal(err)
		}
	}
}
