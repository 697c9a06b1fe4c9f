// Every benchmark here runs through a vport pty (Linux only) and the
// sustained one reads the process CPU time with getrusage.

//go:build linux

package sink

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/rs/zerolog"

	"github.com/wsbridge/wsbridge/internal/adcsim"
	"github.com/wsbridge/wsbridge/internal/frame"
	"github.com/wsbridge/wsbridge/internal/vport"
)

// stampPort records when each frame's bytes were written by the device.
type stampPort struct {
	*vport.Port
	mu    sync.Mutex
	dec   *frame.Decoder
	sent  map[uint32]time.Time
	stamp time.Time
}

func newStampPort(p *vport.Port) *stampPort {
	sp := &stampPort{Port: p, sent: map[uint32]time.Time{}}
	sp.dec = frame.NewDecoder(func(pk *frame.Packet) {
		if pk.Type == frame.TypeData {
			sp.sent[pk.Frame.Seq] = sp.stamp
		}
	})
	return sp
}

func (p *stampPort) Write(b []byte) (int, error) {
	n, err := p.Port.Write(b)
	p.mu.Lock()
	p.stamp = time.Now()
	p.dec.Write(b[:n])
	p.mu.Unlock()
	return n, err
}

func (p *stampPort) sentAt(seq uint32) (time.Time, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	t, ok := p.sent[seq]
	return t, ok
}

// benchChain is sim -> serve -> sink --virtual (csv) with a stamping sim.
func benchChain(b *testing.B, cfg adcsim.Config) (*stampPort, *running, *os.File) {
	sp, _, r, rd := benchChainURL(b, cfg)
	return sp, r, rd
}

func benchChainURL(b *testing.B, cfg adcsim.Config) (*stampPort, string, *running, *os.File) {
	link := b.TempDir() + "/ttySIM"
	p, err := vport.Create(link)
	if err != nil {
		b.Fatal(err)
	}
	dev, err := adcsim.NewDevice(cfg)
	if err != nil {
		b.Fatal(err)
	}
	sp := newStampPort(p)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); dev.Run(ctx, sp) }()
	b.Cleanup(func() { cancel(); p.Close(); <-done })
	srv := startServe(b, link, "127.0.0.1:0", 10*time.Second)
	r := startSink(b, srv.url, func(o *Options) { o.Log = zerolog.Nop() })
	rd, err := os.OpenFile(r.info.Name, os.O_RDONLY|syscall.O_NOCTTY, 0)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { rd.Close() })
	return sp, srv.url, r, rd
}

// wsArrivals records when a plain WebSocket client of serve receives each
// frame: serve's share of the latency.
func wsArrivals(ctx context.Context, url string) func(seq uint32) (time.Time, bool) {
	var mu sync.Mutex
	at := map[uint32]time.Time{}
	go func() {
		c, _, err := websocket.Dial(ctx, url+"?format=binary", nil)
		if err != nil {
			return
		}
		defer c.CloseNow()
		var p frame.Packet
		for {
			typ, b, err := c.Read(ctx)
			if err != nil {
				return
			}
			now := time.Now()
			if typ == websocket.MessageBinary && frame.Parse(&p, b) == nil {
				mu.Lock()
				at[p.Frame.Seq] = now
				mu.Unlock()
			}
		}
	}()
	return func(seq uint32) (time.Time, bool) {
		mu.Lock()
		defer mu.Unlock()
		t, ok := at[seq]
		return t, ok
	}
}

// BenchmarkE2ELatency: device write -> the reader of the sink's pty has the
// frame's last csv line, at 1000 frames/s (10 kHz, 10 samples per frame,
// 2 channels of i32). Reports p50 and p99 over 3000 frames.
func BenchmarkE2ELatency(b *testing.B) {
	cfg := adcsim.DefaultConfig()
	cfg.Signal, cfg.Rate, cfg.Channels, cfg.SampleType, cfg.FrameSamples = "counter", 10000, 2, "i32", 10
	sp, url, _, rd := benchChainURL(b, cfg)
	wsAt := wsArrivals(b.Context(), url)
	var lat, serveLat, sinkLat []time.Duration
	buf := make([]byte, 64<<10)
	var line []byte
	b.ResetTimer()
	warm := 0 // frames written before the reader opened are not latency
	for len(lat) < 3000 {
		n, err := rd.Read(buf)
		now := time.Now()
		if err != nil {
			b.Fatal(err)
		}
		for _, c := range buf[:n] {
			if c != '\n' {
				line = append(line, c)
				continue
			}
			v, _ := strconv.ParseInt(string(line[:bytes.IndexByte(line, ',')]), 10, 64)
			line = line[:0]
			if v%10 == 9 {
				if at, ok := sp.sentAt(uint32(v / 10)); ok {
					if warm++; warm > 300 {
						lat = append(lat, now.Sub(at))
						if w, ok := wsAt(uint32(v / 10)); ok {
							serveLat = append(serveLat, w.Sub(at))
							sinkLat = append(sinkLat, now.Sub(w))
						}
					}
				}
			}
		}
	}
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50_µs")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99_µs")
	b.ReportMetric(float64(lat[len(lat)-1].Microseconds()), "max_µs")
	slices.Sort(serveLat)
	if n := len(serveLat); n > 0 {
		b.ReportMetric(float64(serveLat[n/2].Microseconds()), "serve_only_p50_µs")
		b.ReportMetric(float64(serveLat[n*99/100].Microseconds()), "serve_only_p99_µs")
		slices.Sort(sinkLat)
		b.ReportMetric(float64(sinkLat[n/2].Microseconds()), "sink_share_p50_µs")
		b.ReportMetric(float64(sinkLat[n*99/100].Microseconds()), "sink_share_p99_µs")
	}
}

// BenchmarkE2ESustainedCSV: sim (counter, mono i16) -> serve -> sink csv ->
// a reader of the pty, for 3 s at each rate; reports whether anything was
// lost and the sink's CPU share. Run with -benchtime=1x.
func BenchmarkE2ESustainedCSV(b *testing.B) {
	for _, rate := range []uint32{600_000, 1_200_000, 2_000_000} {
		b.Run(fmt.Sprintf("rate=%d", rate), func(b *testing.B) {
			cfg := adcsim.DefaultConfig()
			cfg.Signal, cfg.Rate, cfg.Channels, cfg.SampleType = "counter", rate, 1, "i16"
			_, r, rd := benchChain(b, cfg)
			var got atomic.Int64
			go func() { // reads until the port closes, also while the sink stops
				buf := make([]byte, 256<<10)
				for {
					n, err := rd.Read(buf)
					got.Add(int64(bytes.Count(buf[:n], []byte{'\n'})))
					if err != nil {
						return
					}
				}
			}()
			var ru0, ru1 syscall.Rusage
			syscall.Getrusage(syscall.RUSAGE_SELF, &ru0)
			start := time.Now()
			time.Sleep(3 * time.Second)
			el := time.Since(start)
			read := got.Load()
			syscall.Getrusage(syscall.RUSAGE_SELF, &ru1)
			sum := r.stop(b)
			cpu := time.Duration(ru1.Utime.Nano()+ru1.Stime.Nano()-ru0.Utime.Nano()-ru0.Stime.Nano()) * time.Nanosecond
			b.ReportMetric(float64(read)/el.Seconds(), "samples/s")
			b.ReportMetric(float64(read)*2/el.Seconds()/1e6, "MB/s_samples")
			b.ReportMetric(float64(sum.BytesWritten)/sum.DurationS/1e6, "MB/s_csv")
			b.ReportMetric(float64(sum.LostFrames+sum.DroppedFrames), "lost+dropped_frames")
			b.ReportMetric(cpu.Seconds()/el.Seconds()*100/float64(runtime.NumCPU()), "cpu%_all_cores_whole_chain")
		})
	}
}

// BenchmarkSinkCSV measures the sink alone: binary frames (1 channel i16,
// 480 samples) rendered as csv, queued and written to a pty that a reader
// drains. Reported as MB/s of samples in.
func BenchmarkSinkCSV(b *testing.B) {
	o := DefaultOptions()
	o.URL, o.Virtual = "ws://127.0.0.1:1/ws", b.TempDir()+"/tty"
	o.Validate()
	s, err := newSink(&o)
	if err != nil {
		b.Fatal(err)
	}
	defer s.box.close()
	rd, _ := os.OpenFile(s.info.Name, os.O_RDONLY|syscall.O_NOCTTY, 0)
	defer rd.Close()
	go func() {
		buf := make([]byte, 256<<10)
		for {
			if _, err := rd.Read(buf); err != nil {
				return
			}
		}
	}()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go s.writeLoop(ctx)
	f := frame.Frame{Rate: 48000, Channels: 1, SampleType: frame.I16, Count: 480, Data: make([]byte, 960)}
	for i := range 480 {
		f.PutInt(i, 0, int64(i*37-9000))
	}
	s.q.policy = Block
	b.SetBytes(960)
	b.ResetTimer()
	var pkt []byte // reused: allocations reported are the sink's own
	for i := 0; i < b.N; i++ {
		f.Seq = uint32(i)
		pkt, _ = frame.AppendFrame(pkt[:0], &f)
		s.stream.onBinary(ctx, pkt)
	}
}

// BenchmarkSinkLatency isolates the sink: a loopback WebSocket server
// sends one frame (10 samples, 2 channels) per millisecond; latency is from
// the server's write to the reader of the pty having the frame's last csv
// line. Reports p50/p99 over 3000 frames.
func BenchmarkSinkLatency(b *testing.B) {
	ts := newTServer(b, false)
	r := startSink(b, ts.url(), func(o *Options) { o.Log = zerolog.Nop() })
	rd := openLikeR(b, r.info.Name)
	c := <-ts.conns
	defer c.release()
	c.hello(b, 0, nil)
	var mu sync.Mutex
	sentAt := map[uint32]time.Time{}
	go func() {
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for s := uint32(0); s < 3300; s++ {
			<-tick.C
			mu.Lock()
			sentAt[s] = time.Now()
			mu.Unlock()
			if c.c.Write(context.Background(), websocket.MessageBinary, counterFrame(s)) != nil {
				return
			}
		}
	}()
	var lat []time.Duration
	buf := make([]byte, 64<<10)
	var line []byte
	b.ResetTimer()
	for len(lat) < 3000 {
		rd.SetReadDeadline(time.Now().Add(5 * time.Second))
		n, err := rd.Read(buf)
		now := time.Now()
		if err != nil {
			b.Fatal(err)
		}
		for _, ch := range buf[:n] {
			if ch != '\n' {
				line = append(line, ch)
				continue
			}
			v, _ := strconv.ParseInt(string(line[:bytes.IndexByte(line, ',')]), 10, 64)
			line = line[:0]
			if v%testSamples == testSamples-1 && v/testSamples >= 100 {
				mu.Lock()
				lat = append(lat, now.Sub(sentAt[uint32(v/testSamples)]))
				mu.Unlock()
			}
		}
	}
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50_µs")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99_µs")
	b.ReportMetric(float64(lat[len(lat)-1].Microseconds()), "max_µs")
}

// BenchmarkPtyBaseline is the floor under the sink's latency: one 110-byte
// write per millisecond into a vport pty, timed until its reader has it.
func BenchmarkPtyBaseline(b *testing.B) {
	p, err := vport.Create("")
	if err != nil {
		b.Fatal(err)
	}
	defer p.Close()
	rd := openLikeR(b, p.Name())
	msg := bytes.Repeat([]byte("x"), 109)
	msg = append(msg, '\n')
	var lat []time.Duration
	buf := make([]byte, 4096)
	b.ResetTimer()
	for range 3000 {
		time.Sleep(time.Millisecond)
		t0 := time.Now()
		p.Write(msg)
		for got := 0; got < len(msg); {
			n, err := rd.Read(buf)
			if err != nil {
				b.Fatal(err)
			}
			got += n
		}
		lat = append(lat, time.Since(t0))
	}
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50_µs")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99_µs")
	b.ReportMetric(float64(lat[len(lat)-1].Microseconds()), "max_µs")
}
