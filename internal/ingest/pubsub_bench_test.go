//go:build unix

package ingest_test

import (
	"context"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/rs/zerolog"

	"github.com/wsbridge/wsbridge/internal/frame"
	"github.com/wsbridge/wsbridge/internal/relay"
	"github.com/wsbridge/wsbridge/internal/testsupport/rig"
)

// BenchmarkPubToSubscriber is the Wi-Fi hub's path for one frame, in
// lockstep: a board publishes a 16 kHz i16 frame of 256 samples on
// /pub/NAME of a relay server (real sockets on loopback, wsconn under
// it), serve checks it (CRC-32C, seq) and keeps it in the history, and
// its one subscriber on /ws/NAME receives it before the board sends the
// next. So every frame wakes serve's reader and writer from idle, as at
// 62.5 frames/s per board on a quiet machine, and nothing is batched.
// cpu_µs/frame is the whole process's CPU time (getrusage: serve, the
// board and the subscriber) per frame; ns/op the round trip.
func BenchmarkPubToSubscriber(b *testing.B) {
	const name, subToken = "b000", "bench-subscribers"
	base := rig.PubHub(b, relay.Options{Token: subToken, MaxClients: 16, Log: zerolog.Nop()}, [2]string{name, "board-token"})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	dial := func(path, token string) *websocket.Conn {
		c, _, err := websocket.Dial(ctx, base+path, &websocket.DialOptions{
			HTTPHeader: http.Header{"Authorization": {"Bearer " + token}}})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { c.CloseNow() })
		return c
	}
	board := dial("/pub/"+name, "board-token")
	if _, _, err := board.Read(ctx); err != nil { // the greeting
		b.Fatal(err)
	}
	board.CloseRead(context.Background()) // answers pings
	sub := dial("/ws/"+name, subToken)
	// The hello comes once the subscription is in place: a frame the board
	// sent before it would not be the subscriber's.
	if typ, msg, err := sub.Read(ctx); err != nil || typ != websocket.MessageText || !strings.Contains(string(msg), `"hello"`) {
		b.Fatalf("subscriber: %v %s, want the hello", err, msg)
	}
	got := make(chan uint32, 1)
	go func() {
		for {
			typ, msg, err := sub.Read(context.Background())
			if err != nil {
				close(got)
				return
			}
			var p frame.Packet
			if typ == websocket.MessageBinary && frame.Parse(&p, msg) == nil && p.Type == frame.TypeData {
				got <- p.Frame.Seq
			}
		}
	}()
	f := frame.Frame{Rate: 16000, Channels: 1, SampleType: frame.I16, Count: 256, Data: make([]byte, 512)}
	var pkt []byte
	send := func(seq uint32) {
		f.Seq = seq
		pkt, _ = frame.AppendFrame(pkt[:0], &f)
		if err := board.Write(context.Background(), websocket.MessageBinary, pkt); err != nil {
			b.Fatal(err)
		}
		if s, ok := <-got; !ok || s != seq {
			b.Fatalf("subscriber got seq %d (open %v), want %d", s, ok, seq)
		}
	}
	for seq := range uint32(100) { // warm up: the channel up, the subscriber reading
		send(seq)
	}
	var r0, r1 syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &r0)
	b.ResetTimer()
	for i := range b.N {
		send(uint32(100 + i))
	}
	b.StopTimer()
	syscall.Getrusage(syscall.RUSAGE_SELF, &r1)
	cpu := time.Duration(r1.Utime.Nano() + r1.Stime.Nano() - r0.Utime.Nano() - r0.Stime.Nano())
	b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu_µs/frame")
}
