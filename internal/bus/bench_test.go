//go:build unix

package bus_test

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/rs/zerolog"

	"github.com/wsbridge/wsbridge/internal/bus"
	"github.com/wsbridge/wsbridge/internal/frame"
	"github.com/wsbridge/wsbridge/internal/relay"
	"github.com/wsbridge/wsbridge/internal/testsupport"
)

// The bus benchmarks run whole paths on loopback: frames are put into an
// origin channel (relay.Channel.Packet, what a device's source does)
// stamped with the time they were put in, and read by WebSocket clients in
// the binary format, which compute each frame's latency (the same clock on
// both ends). The serves and clients run in this process; nats-server runs
// as its own processes (built from the module), so their CPU is reported
// apart: cpu_µs/frame is wsbridge's (both serves and the client),
// nats_cpu_µs/frame the NATS servers'. Run with -benchtime 1x (each runs
// for a fixed time):
//
//	go test -run '^$' -bench Bus -benchtime 1x ./internal/bus/

// benchNode is one serve's network side: a relay server, optionally on the bus.
type benchNode struct {
	srv  *relay.Server
	base string
	node *bus.Node
}

func startNode(b *testing.B, busURL, site string) *benchNode {
	b.Helper()
	srv, err := relay.New(relay.Options{Listen: "127.0.0.1:0", History: 30 * time.Second, HistoryBytes: 256 << 20,
		MaxClients: 1024, Log: zerolog.Nop()})
	if err != nil {
		b.Fatal(err)
	}
	base, err := srv.Listen()
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = srv.Serve(ctx) }()
	n := &benchNode{srv: srv, base: base}
	b.Cleanup(func() {
		if n.node != nil {
			n.node.Close()
		}
		cancel()
		<-done
	})
	if busURL != "" {
		cfg := bus.Config{URL: bus.URLList{busURL}, Site: site}
		if site == "lab1" && replicas > 1 {
			cfg.Stream.Replicas = replicas
		}
		if n.node, err = bus.Attach(cfg, srv, bus.NodeOptions{Log: zerolog.Nop()}); err != nil {
			b.Fatal(err)
		}
	}
	return n
}

// replicas is the stream replicas the origin asks for (3 with a cluster).
var replicas = 1

// stamped is a frame of one i16 channel whose t_dev_us is the time it was
// made, in µs since t0.
func stamped(b *testing.B, seq uint32, t0 time.Time, samples int) *frame.Packet {
	f := frame.Frame{Seq: seq, Rate: 16000, Channels: 1, SampleType: frame.I16, Count: uint16(samples),
		TimeUS: uint64(time.Since(t0).Microseconds())}
	f.Data = make([]byte, f.PayloadSize())
	raw, err := frame.AppendFrame(nil, &f)
	if err != nil {
		b.Fatal(err)
	}
	var p frame.Packet
	if err := frame.Parse(&p, raw); err != nil {
		b.Fatal(err)
	}
	return &p
}

// reader reads a channel's binary stream and records each frame's latency.
type reader struct {
	mu     sync.Mutex
	lat    []time.Duration
	frames int
	gaps   int
	last   uint32
}

// benchDial connects a benchmark's reader to url with benchHTTPClient.
func benchDial(b *testing.B, url string) *websocket.Conn {
	b.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, url, &websocket.DialOptions{HTTPClient: benchHTTPClient()})
	if err != nil {
		b.Fatalf("dial %s: %v", url, err)
	}
	c.SetReadLimit(1 << 20)
	b.Cleanup(func() { c.CloseNow() })
	return c
}

func readFrames(b *testing.B, url string, t0 time.Time) *reader {
	c := benchDial(b, url)
	testsupport.ExpectHello(b, c)
	r := &reader{}
	go func() {
		for {
			typ, msg, err := c.Read(context.Background())
			if err != nil {
				return
			}
			now := time.Since(t0)
			if typ != websocket.MessageBinary {
				if len(msg) > 8 && string(msg[:15]) == `{"type":"gap","` {
					r.mu.Lock()
					r.gaps++
					r.mu.Unlock()
				}
				continue
			}
			var p frame.Packet
			if frame.Parse(&p, msg) != nil {
				continue
			}
			r.mu.Lock()
			r.lat = append(r.lat, now-time.Duration(p.Frame.TimeUS)*time.Microsecond)
			r.frames++
			r.last = p.Frame.Seq
			r.mu.Unlock()
		}
	}()
	return r
}

func (r *reader) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.frames
}

func (r *reader) percentiles() (p50, p99 time.Duration) {
	r.mu.Lock()
	l := slices.Clone(r.lat)
	r.mu.Unlock()
	slices.Sort(l)
	if len(l) == 0 {
		return 0, 0
	}
	return l[len(l)/2], l[len(l)*99/100]
}

// cpu is the process's user+system CPU time so far.
func cpu() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// sleeps is how many times the process's threads blocked (voluntary
// context switches: a futex or epoll wait), and syscalls how many read
// and write system calls it made (/proc/self/io): counts of work that,
// unlike CPU time, a loaded machine hardly changes.
func sleeps() (sleeps, syscalls int64) {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	b, _ := os.ReadFile("/proc/self/io")
	for line := range strings.SplitSeq(string(b), "\n") {
		k, v, _ := strings.Cut(line, ": ")
		if k == "syscr" || k == "syscw" {
			n, _ := strconv.ParseInt(v, 10, 64)
			syscalls += n
		}
	}
	return ru.Nvcsw, syscalls
}

// busMessages is how many messages the bus acknowledged for serve n's
// channel ch (its /metrics).
func busMessages(b *testing.B, n *benchNode, ch string) int64 {
	return metricOf(b, n, `wsbridge_bus_published_messages_total{channel="`+ch+`"}`)
}

// metricOf is serve n's /metrics sample name (with its labels), or the sum
// over labels of a bare name.
func metricOf(b *testing.B, n *benchNode, name string) int64 {
	return int64(testsupport.ParseMetrics(testsupport.MetricsText(b, n.base))[name])
}

// waitMirror waits until n serves channel name as a mirror.
func waitMirror(b *testing.B, n *benchNode, names ...string) {
	testsupport.WaitFor(b, 30*time.Second, "the mirrors", func() bool {
		for _, name := range names {
			if _, ok := n.srv.Channel(name); !ok {
				return false
			}
		}
		return true
	})
}

// feed puts frames 1.. into chs (frame 0 primed the mirrors) at rate
// frames per second per channel for d; it returns how many per channel.
// It is paced by the clock, not by ticks: a feeder that was not scheduled
// for a while (a loaded machine) puts in every frame that came due
// meanwhile, as a device's buffer would, so the offered rate stays rate.
func feed(b *testing.B, chs []*relay.Channel, rate int, d time.Duration, t0 time.Time, samples int) int {
	return pace(rate, d, func(seq int) {
		for _, ch := range chs {
			ch.Packet(stamped(b, uint32(seq), t0, samples))
		}
	})
}

// pace calls put(1), put(2), ... rate times a second for d, by the clock
// (see feed), and returns how many it called.
func pace(rate int, d time.Duration, put func(seq int)) int {
	tick := time.NewTicker(time.Second / time.Duration(rate))
	defer tick.Stop()
	n := int(d.Seconds() * float64(rate))
	start := time.Now()
	for seq := 1; seq <= n; {
		due := min(n, 1+int(time.Since(start).Seconds()*float64(rate)))
		for ; seq <= due; seq++ {
			put(seq)
		}
		if seq <= n {
			<-tick.C
		}
	}
	return n
}

// BenchmarkBusLatency: device -> client on the same serve, against
// device -> serve A -> NATS -> serve B -> client on B, in one run: frames
// of 16 samples at 1000 a second for 5 s.
func BenchmarkBusLatency(b *testing.B) {
	for _, topo := range []string{"single", "cluster3"} {
		b.Run(topo, func(b *testing.B) {
			replicas = 1
			if topo == "cluster3" {
				replicas = 3
			}
			url := natsURL(runNATSProcs(b, replicas))
			a, bb := startNode(b, url, "lab1"), startNode(b, url, "front")
			ch, err := a.srv.AddChannel(relay.ChannelOptions{Name: "mic"})
			if err != nil {
				b.Fatal(err)
			}
			ch.Up("bench")
			t0 := time.Now()
			ch.Packet(stamped(b, 0, t0, 16))
			waitMirror(b, bb, "mic")
			direct := readFrames(b, relay.WSURL(a.base)+"/mic", t0)
			remote := readFrames(b, relay.WSURL(bb.base)+"/mic", t0)
			b.ResetTimer()
			n := feed(b, []*relay.Channel{ch}, 1000, 5*time.Second, t0, 16)
			testsupport.WaitFor(b, 30*time.Second, "every frame at both clients", func() bool {
				return direct.count() >= n && remote.count() >= n
			})
			b.StopTimer()
			d50, d99 := direct.percentiles()
			r50, r99 := remote.percentiles()
			b.ReportMetric(float64(d50.Microseconds()), "direct_p50_µs")
			b.ReportMetric(float64(d99.Microseconds()), "direct_p99_µs")
			b.ReportMetric(float64(r50.Microseconds()), "bus_p50_µs")
			b.ReportMetric(float64(r99.Microseconds()), "bus_p99_µs")
			b.ReportMetric(float64((r99 - d99).Microseconds()), "added_p99_µs")
			b.ReportMetric(float64(remote.gaps), "gaps")
		})
	}
}

// BenchmarkBusCPU: CPU per frame for one channel of 160-sample frames at
// 1000 a second (160 kHz) read by one client: without the bus (serve and
// its client), and with it (serve A publishing, serve B mirroring, the
// client on B; the nats-server process apart). Both serves and the client
// share this process and its GOMAXPROCS (go test's default: the machine's
// cores; a serve alone runs at one P while light, so compare with
// GOMAXPROCS=1 too).
func BenchmarkBusCPU(b *testing.B) {
	for _, withBus := range []bool{false, true} {
		name := "without_bus"
		if withBus {
			name = "with_bus"
		}
		b.Run(name, func(b *testing.B) {
			url := ""
			var nats []*natsProc
			if withBus {
				nats = runNATSProcs(b, 1)
				url = natsURL(nats)
			}
			replicas = 1
			a := startNode(b, url, "lab1")
			ch, _ := a.srv.AddChannel(relay.ChannelOptions{Name: "mic"})
			ch.Up("bench")
			t0 := time.Now()
			ch.Packet(stamped(b, 0, t0, 160))
			var readers []*reader
			if withBus {
				bb := startNode(b, url, "front")
				waitMirror(b, bb, "mic")
				readers = append(readers, readFrames(b, relay.WSURL(bb.base)+"/mic", t0))
			} else {
				readers = append(readers, readFrames(b, relay.WSURL(a.base)+"/mic", t0))
			}
			time.Sleep(500 * time.Millisecond) // settle: connections, consumers
			c0, n0, w0 := cpu(), procCPU(nats), time.Now()
			s0, y0 := sleeps()
			m0 := int64(0)
			if withBus {
				m0 = busMessages(b, a, "mic")
			}
			b.ResetTimer()
			n := feed(b, []*relay.Channel{ch}, 1000, 10*time.Second, t0, 160)
			testsupport.WaitFor(b, 30*time.Second, "every frame", func() bool {
				for _, r := range readers {
					if r.count() < n {
						return false
					}
				}
				return true
			})
			b.StopTimer()
			used, natsUsed, wall := cpu()-c0, procCPU(nats)-n0, time.Since(w0)
			s1, y1 := sleeps()
			b.ReportMetric(float64(used.Microseconds())/float64(n), "cpu_µs/frame")
			b.ReportMetric(float64(s1-s0)/float64(n), "sleeps/frame")
			b.ReportMetric(float64(y1-y0)/float64(n), "rw_syscalls/frame")
			if withBus {
				b.ReportMetric(float64(n)/float64(max(1, busMessages(b, a, "mic")-m0)), "frames/message")
			}
			b.ReportMetric(100*used.Seconds()/wall.Seconds(), "cpu_%")
			b.ReportMetric(float64(natsUsed.Microseconds())/float64(n), "nats_cpu_µs/frame")
			p50, p99 := readers[0].percentiles()
			b.ReportMetric(float64(p50.Microseconds()), "p50_µs")
			b.ReportMetric(float64(p99.Microseconds()), "p99_µs")
		})
	}
}

// BenchmarkBus100Channels: 100 channels at 16 kHz (100 frames of 160 i16
// samples a second each) published by serve A into a 3-node cluster with
// replicas 3, mirrored by serve B, one client per channel on B, fed for
// 10 s. It reports what reached the clients per second of the whole run
// (feeding plus draining), the CPU of wsbridge and of the three
// nats-servers, latency and gaps; it waits up to 2 minutes for the last
// frame, so a bus that cannot keep up shows as a rate below 10000 and a
// large p99, not as loss. BUS_BENCH_CHANNELS changes the 100,
// BUS_BENCH_REPLICAS=1 runs one nats-server with replicas 1.
func BenchmarkBus100Channels(b *testing.B) {
	nch := 100
	if v, err := strconv.Atoi(os.Getenv("BUS_BENCH_CHANNELS")); err == nil && v > 0 {
		nch = v
	}
	replicas = 3
	if v, err := strconv.Atoi(os.Getenv("BUS_BENCH_REPLICAS")); err == nil && v > 0 {
		replicas = v // 1: one nats-server process, to see what replication costs
	}
	nats := runNATSProcs(b, replicas)
	a, bb := startNode(b, natsURL(nats), "lab1"), startNode(b, natsURL(nats), "front")
	var chs []*relay.Channel
	var names []string
	t0 := time.Now()
	for i := range nch {
		ch, err := a.srv.AddChannel(relay.ChannelOptions{Name: fmt.Sprintf("ch%03d", i)})
		if err != nil {
			b.Fatal(err)
		}
		ch.Up("bench")
		ch.Packet(stamped(b, 0, t0, 160))
		chs, names = append(chs, ch), append(names, ch.Name())
	}
	waitMirror(b, bb, names...)
	var readers []*reader
	for _, name := range names {
		readers = append(readers, readFrames(b, relay.WSURL(bb.base)+"/"+name, t0))
	}
	time.Sleep(time.Second) // settle: connections, consumers
	c0, n0, w0 := cpu(), procCPU(nats), time.Now()
	b.ResetTimer()
	profiled := profile(b, nats, 8*time.Second)
	n := feed(b, chs, 100, 10*time.Second, t0, 160)
	fed := time.Since(w0)
	profiled()
	received := func() (got int) {
		for _, r := range readers {
			got += min(r.count(), n)
		}
		return got
	}
	testsupport.Within(2*time.Minute, 50*time.Millisecond, func() bool { return received() == n*nch })
	b.StopTimer()
	used, natsUsed, wall := cpu()-c0, procCPU(nats)-n0, time.Since(w0)
	var all reader
	gaps := 0
	for _, r := range readers {
		all.lat = append(all.lat, r.lat...)
		gaps += r.gaps
	}
	p50, p99 := all.percentiles()
	b.ReportMetric(float64(nch), "channels")
	b.ReportMetric(float64(received())/wall.Seconds(), "frames/s")
	b.ReportMetric(wall.Seconds()-fed.Seconds(), "drain_s")
	b.ReportMetric(float64(n*nch-received()), "missing")
	b.ReportMetric(100*used.Seconds()/wall.Seconds(), "cpu_%")
	b.ReportMetric(float64(used.Microseconds())/float64(max(received(), 1)), "cpu_µs/frame")
	b.ReportMetric(100*natsUsed.Seconds()/wall.Seconds(), "nats_cpu_%")
	b.ReportMetric(float64(p50.Microseconds()), "p50_µs")
	b.ReportMetric(float64(p99.Microseconds()), "p99_µs")
	b.ReportMetric(float64(gaps), "gaps")
	b.ReportMetric(float64(metricOf(b, a, "wsbridge_bus_publish_failures_total")), "publish_failures")
}
