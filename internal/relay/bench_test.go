package relay

import (
	"bufio"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/wsbridge/wsbridge/internal/frame"
	"github.com/wsbridge/wsbridge/internal/testsupport"
	"github.com/wsbridge/wsbridge/internal/wsconn"
)

// benchPacket is a 48 kHz mono i16 frame of 480 samples (10 ms, 988 bytes
// on the wire): the realistic microphone stream.
func benchPacket(b *testing.B, seq uint32, count int) *frame.Packet {
	f := frame.Frame{Seq: seq, Rate: 48000, Channels: 1, SampleType: frame.I16, Count: uint16(count),
		TimeUS: uint64(time.Now().UnixMicro())}
	f.Data = make([]byte, f.PayloadSize())
	return packetOf(b, &f)
}

// setSeq rewrites the seq of a binary packet and its CRC.
func setSeq(p *frame.Packet, seq uint32) {
	binary.LittleEndian.PutUint32(p.Raw[frame.PrefixSize:], seq)
	p.Frame.Seq = seq
	n := len(p.Raw) - frame.CRCSize
	binary.LittleEndian.PutUint32(p.Raw[n:], frame.Checksum(p.Raw[:n]))
}

// benchReader reads binary messages into a reused buffer and counts them.
func benchReader(c *websocket.Conn, got *atomic.Int64, want int64, done *sync.WaitGroup) {
	defer done.Done()
	buf := make([]byte, 1<<16)
	for got.Load() < want {
		_, r, err := c.Reader(context.Background())
		if err != nil {
			return
		}
		for {
			if _, err := r.Read(buf); err == io.EOF {
				break
			} else if err != nil {
				return
			}
		}
		got.Add(1)
	}
}

// BenchmarkFanOut measures frames/s and MB/s through the hub to N
// clients over real loopback WebSockets. The producer stays within 2000
// frames of the slowest client so that nobody is skipped; clients run in
// this process and share its CPUs.
func BenchmarkFanOut(b *testing.B) {
	for _, size := range []int{480, 4096} {
		for _, n := range []int{1, 10, 100} {
			b.Run(fmt.Sprintf("samples=%d/clients=%d", size, n), func(b *testing.B) { benchFanOut(b, n, size) })
		}
	}
}

func benchFanOut(b *testing.B, n, size int) {
	s, base := testServer(b, Options{History: time.Hour, HistoryBytes: 1 << 30, MaxClients: n, PingInterval: time.Hour})
	counts := make([]atomic.Int64, n)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		c := testsupport.Dial(b, wsURL(base, ""), nil)
		testsupport.ExpectHello(b, c)
		wg.Add(1)
		go benchReader(c, &counts[i], int64(b.N), &wg)
	}
	p := benchPacket(b, 0, size)
	b.SetBytes(int64(len(p.Raw)))
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		setSeq(p, uint32(i))
		s.Packet(p)
		for i%64 == 0 && int64(i)-minCount(counts) > 2000 {
			time.Sleep(50 * time.Microsecond)
		}
	}
	wg.Wait()
	el := time.Since(start).Seconds()
	b.StopTimer()
	b.ReportMetric(float64(b.N)/el, "frames/s")
	b.ReportMetric(float64(b.N)*float64(n)/el, "deliveries/s")
	b.ReportMetric(float64(b.N)*float64(n*len(p.Raw))/el/1e6, "out_MB/s")
	if d := s.Info().Counters["client_dropped_frames_total"]; d != 0 {
		b.Fatalf("%v frames dropped", d)
	}
}

func minCount(c []atomic.Int64) int64 {
	m := c[0].Load()
	for i := range c {
		m = min(m, c[i].Load())
	}
	return m
}

// BenchmarkLatency measures publish -> client receive at 1000 frames/s
// (48 kHz in 48-sample frames) with N clients, p50 and p99 in µs, with one
// P (what serve's --procs auto uses at this load) and with every CPU.
func BenchmarkLatency(b *testing.B) {
	for _, procs := range []int{1, runtime.NumCPU()} {
		for _, n := range []int{1, 10} {
			b.Run(fmt.Sprintf("procs=%d/clients=%d", procs, n), func(b *testing.B) {
				defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
				benchLatency(b, n)
			})
		}
	}
}

func benchLatency(b *testing.B, n int) {
	s, base := testServer(b, Options{PingInterval: time.Hour})
	epoch := time.Now()
	lat := make([][]time.Duration, n)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		c := testsupport.Dial(b, wsURL(base, ""), nil)
		testsupport.ExpectHello(b, c)
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			for len(lat[i]) < b.N {
				_, m, err := c.Read(context.Background())
				if err != nil {
					return
				}
				sent := time.Duration(binary.LittleEndian.Uint64(m[frame.PrefixSize+4:])) * time.Microsecond
				lat[i] = append(lat[i], time.Since(epoch)-sent)
			}
		}(i)
	}
	p := benchPacket(b, 0, 48)
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		<-tick.C
		setSeq(p, uint32(i))
		binary.LittleEndian.PutUint64(p.Raw[frame.PrefixSize+4:], uint64(time.Since(epoch).Microseconds()))
		s.Packet(p)
	}
	wg.Wait()
	b.StopTimer()
	all := slices.Concat(lat...)
	slices.Sort(all)
	b.ReportMetric(float64(all[len(all)/2].Microseconds()), "p50_µs")
	b.ReportMetric(float64(all[len(all)*99/100].Microseconds()), "p99_µs")
}

// BenchmarkLatencyFloor is the machine's own floor under BenchmarkLatency:
// the same 1000 messages/s of the same size, written on a plain loopback
// TCP connection to a reader goroutine, with no WebSocket and no relay.
// What the relay adds is BenchmarkLatency minus this, run by run.
func BenchmarkLatencyFloor(b *testing.B) {
	w, r := testsupport.TCPPair(b)
	msg := benchPacket(b, 0, 48).Raw
	epoch := time.Now()
	lat := make([]time.Duration, 0, b.N)
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, len(msg))
		for len(lat) < b.N {
			if _, err := io.ReadFull(r, buf); err != nil {
				return
			}
			sent := time.Duration(binary.LittleEndian.Uint64(buf)) * time.Microsecond
			lat = append(lat, time.Since(epoch)-sent)
		}
	}()
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		<-tick.C
		binary.LittleEndian.PutUint64(msg, uint64(time.Since(epoch).Microseconds()))
		if _, err := w.Write(msg); err != nil {
			b.Fatal(err)
		}
	}
	<-done
	b.StopTimer()
	if len(lat) < b.N {
		b.Fatalf("reader got %d of %d messages", len(lat), b.N)
	}
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50_µs")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99_µs")
}

// BenchmarkMemoryPerClient measures the server's heap and stack per idle
// client (connected with a raw handshake so the client side costs only a
// socket), after each got 100 frames.
func BenchmarkMemoryPerClient(b *testing.B) { benchMemoryPerClient(b, "/ws", nil) }

// benchMemoryPerClient connects 200 raw clients to path (setup adjusts the channel
// first), publishes 100 frames and reports the server's heap and
// stacks per client once every writer has caught up.
func benchMemoryPerClient(b *testing.B, path string, setup func(*Channel)) {
	const n = 200
	for i := 0; i < b.N; i++ {
		s, base := testServer(b, Options{MaxClients: n, PingInterval: time.Hour})
		if setup != nil {
			setup(s)
		}
		before := memInUse()
		conns := make([]net.Conn, n)
		for j := range conns {
			conns[j], _ = rawHandshake(b, strings.TrimPrefix(base, "http://"), path)
		}
		testsupport.WaitFor(b, 5*time.Second, "clients", func() bool { return clients(s) == n })
		for seq := uint32(0); seq < 100; seq++ {
			s.Packet(benchPacket(b, seq, 480))
		}
		testsupport.WaitFor(b, 5*time.Second, "writers to catch up", func() bool { return maxLag(s) == 0 })
		memInUse().since(before).report(b, n)
		for _, c := range conns {
			c.Close()
		}
	}
}

func maxLag(s *Channel) uint64 {
	var m uint64
	for _, c := range s.Info().Clients {
		m = max(m, c.Lag)
	}
	return m
}

// memory is what the process holds in its heap and goroutine stacks.
type memory struct{ heap, stack, goroutines int64 }

// memInUse measures after two collections: the first frees what the
// clients' setup left, the second shrinks the stacks (a collection halves
// a stack that uses under a quarter of its size).
func memInUse() memory {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return memory{int64(m.HeapInuse), int64(m.StackInuse), int64(runtime.NumGoroutine())}
}

func (m memory) since(o memory) memory {
	return memory{m.heap - o.heap, m.stack - o.stack, m.goroutines - o.goroutines}
}

// report gives the heap and stacks per client, and their sum.
func (m memory) report(b *testing.B, n int) {
	b.ReportMetric(float64(m.heap+m.stack)/float64(n), "B/client")
	b.ReportMetric(float64(m.heap)/float64(n), "heap_B/client")
	b.ReportMetric(float64(m.stack)/float64(n), "stack_B/client")
	b.ReportMetric(float64(m.goroutines)/float64(n), "goroutines/client")
}

// rawHandshake opens a WebSocket on target (as "/ws?envelope=64") with a
// hand-written request and returns the bare connection: the client side
// costs a socket, no goroutine, so that what the process holds per client
// is the server's. The reader holds what came after the response (the
// hello, often), then reads c.
func rawHandshake(b *testing.B, host, target string) (net.Conn, *bufio.Reader) {
	c, err := net.Dial("tcp", host)
	if err != nil {
		b.Fatal(err)
	}
	fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n", target, host)
	r := bufio.NewReader(c)
	resp, err := http.ReadResponse(r, nil)
	if err != nil || resp.StatusCode != http.StatusSwitchingProtocols {
		b.Fatalf("handshake: %v %v", resp, err)
	}
	return c, r
}

// drainAnswering reads everything the server sends to a raw client (r,
// from rawHandshake) and answers each ping with its pong, as a browser
// does: the pong is the flow control's confirmation (wsconn.Flow), and
// without it the client's writer stops for good once wsconn.Window bytes
// are in flight. It allocates nothing per message.
func drainAnswering(c net.Conn, r *bufio.Reader) {
	var hdr [10]byte       // a server's frames are not masked
	var pong [6 + 125]byte // masked with key 0: the payload as is
	for {
		if _, err := io.ReadFull(r, hdr[:2]); err != nil {
			return
		}
		if _, err := io.ReadFull(r, hdr[2:wsconn.HeaderLen(hdr[:2])]); err != nil {
			return
		}
		n := int(wsconn.PayloadLen(hdr[:]))
		if hdr[0]&0x0f != wsconn.OpPing {
			if _, err := r.Discard(n); err != nil {
				return
			}
			continue
		}
		if n > 125 {
			return // not a valid control frame
		}
		pong[0], pong[1] = 0x80|wsconn.OpPong, 0x80|byte(n)
		if _, err := io.ReadFull(r, pong[6:6+n]); err != nil {
			return
		}
		if _, err := c.Write(pong[:6+n]); err != nil {
			return
		}
	}
}

// BenchmarkPublish is the producer's cost per frame, alone and with 100
// clients attached that never read (their writers block on full sockets
// and are skipped): the producer never waits for them, but shares the CPUs.
func BenchmarkPublish(b *testing.B) {
	for _, n := range []int{0, 100} {
		b.Run(fmt.Sprintf("clients=%d", n), func(b *testing.B) { benchPublish(b, n) })
	}
}

func benchPublish(b *testing.B, n int) {
	s, base := testServer(b, Options{MaxClients: 100, PingInterval: time.Hour, History: time.Second})
	for i := 0; i < n; i++ {
		testsupport.ExpectHello(b, testsupport.Dial(b, wsURL(base, ""), nil)) // never read again
	}
	p := benchPacket(b, 0, 480)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		setSeq(p, uint32(i))
		s.Packet(p)
	}
}

// BenchmarkEncoded is the cost of a frame's JSON and CSV renderings,
// made once per frame for all the clients that asked for the format.
func BenchmarkEncoded(b *testing.B) {
	for _, fm := range []string{FormatJSON, FormatCSV} {
		b.Run(fm, func(b *testing.B) {
			e := newFrameEntry(counterPacket(b, 7, 480, 2, frame.I16))
			o := DefaultOptions()
			h := newHub("bench", o.History, o.HistoryBytes, o.Log, &channelStats{})
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				e.json.Store(nil)
				e.csv.Store(nil)
				h.encoded(e, fm)
			}
		})
	}
}
