package ingest_test

import (
	"context"
	"testing"

	"github.com/coder/websocket"

	"github.com/wsbridge/wsbridge/internal/frame"
	"github.com/wsbridge/wsbridge/internal/ingest"
)

// nopPub counts data frames.
type nopPub struct{ frames chan struct{} }

func (p nopPub) Packet(pk *frame.Packet) {
	if pk.Type == frame.TypeData {
		p.frames <- struct{}{}
	}
}
func (nopPub) Up(string)   {}
func (nopPub) Down(string) {}

// BenchmarkNetworkIngest: one publisher sends 16 kHz i16 frames of 256
// samples (what the reference firmware sends) as fast as it can; serve's
// side reads, checks and hands on each. ns/op and allocs/op are per frame,
// both ends on loopback in this process.
func BenchmarkNetworkIngest(b *testing.B) {
	n, err := ingest.NewNetwork(ingest.NetworkOptions{Channel: "bench"})
	if err != nil {
		b.Fatal(err)
	}
	pub := nopPub{frames: make(chan struct{}, 1024)}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go n.Run(ctx, pub)
	h := startHubFor(b, n)
	c, _, err := websocket.Dial(ctx, h, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer c.CloseNow()
	if _, _, err := c.Read(ctx); err != nil { // greeting
		b.Fatal(err)
	}
	go c.Read(ctx) // answer pings
	f := frame.Frame{Rate: 16000, Channels: 1, SampleType: frame.I16, Count: 256, Data: make([]byte, 512)}
	pkt, _ := frame.AppendFrame(nil, &f)
	b.SetBytes(int64(len(pkt)))
	b.ReportAllocs()
	b.ResetTimer()
	go func() {
		for i := 0; i < b.N; i++ {
			if c.Write(ctx, websocket.MessageBinary, pkt) != nil {
				return
			}
		}
	}()
	for i := 0; i < b.N; i++ {
		<-pub.frames
	}
}
