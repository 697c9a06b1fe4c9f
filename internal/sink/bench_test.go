// Every benchmark here runs through a vport pty (Linux only) and the
// sustained one reads the process CPU time with getrusage.

//go:build linux

package sink

import (
	"bytes"
	"context"
	"fmt"
	"io"
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
	"github.com/wsbridge/wsbridge/internal/testsupport/rig"
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

// benchChain is sim -> serve -> sink --virtual (csv) with a stamping sim;
// it returns the sim's port, serve's URL, the sink and a reader of its pty.
func benchChain(b *testing.B, cfg adcsim.Config) (*stampPort, string, *running, *os.File) {
	var sp *stampPort
	link := rig.Device(b, cfg, func(p *vport.Port) io.ReadWriter { sp = newStampPort(p); return sp })
	srv := startServe(b, link, "127.0.0.1:0", 10*time.Second)
	r := startSink(b, srv.WS, func(o *Options) { o.Log = zerolog.Nop() })
	return sp, srv.WS, r, openReader(b, r.info.Name)
}

// openReader opens the pty slave name for reading (without O_NONBLOCK,
// unlike openLikeR), closed at cleanup.
func openReader(tb testing.TB, name string) *os.File {
	tb.Helper()
	rd, err := os.OpenFile(name, os.O_RDONLY|syscall.O_NOCTTY, 0)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { rd.Close() })
	return rd
}

// firstColumns calls each with the first column of every csv line that b
// completes; line carries an incomplete line from one call to the next.
func firstColumns(b []byte, line *[]byte, each func(v int64)) {
	for _, c := range b {
		if c != '\n' {
			*line = append(*line, c)
			continue
		}
		v, _ := strconv.ParseInt(string((*line)[:bytes.IndexByte(*line, ',')]), 10, 64)
		*line = (*line)[:0]
		each(v)
	}
}

// reportLatency reports the median, 99th percentile and maximum of lat as
// prefix+"p50_µs", "p99_µs" and "max_µs".
func reportLatency(b *testing.B, prefix string, lat []time.Duration) {
	if len(lat) == 0 {
		return
	}
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), prefix+"p50_µs")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), prefix+"p99_µs")
	b.ReportMetric(float64(lat[len(lat)-1].Microseconds()), prefix+"max_µs")
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
	sp, url, _, rd := benchChain(b, cfg)
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
		firstColumns(buf[:n], &line, func(v int64) {
			if v%10 != 9 {
				return
			}
			at, ok := sp.sentAt(uint32(v / 10))
			if !ok {
				return
			}
			if warm++; warm <= 300 {
				return
			}
			lat = append(lat, now.Sub(at))
			if w, ok := wsAt(uint32(v / 10)); ok {
				serveLat = append(serveLat, w.Sub(at))
				sinkLat = append(sinkLat, now.Sub(w))
			}
		})
	}
	b.StopTimer()
	reportLatency(b, "", lat)
	reportLatency(b, "serve_only_", serveLat)
	reportLatency(b, "sink_share_", sinkLat)
}

// BenchmarkE2ESustainedCSV: sim (counter, mono i16) -> serve -> sink csv ->
// a reader of the pty, for 3 s at each rate; reports whether anything was
// lost and the sink's CPU share. Run with -benchtime=1x.
func BenchmarkE2ESustainedCSV(b *testing.B) {
	for _, rate := range []uint32{600_000, 1_200_000, 2_000_000} {
		b.Run(fmt.Sprintf("rate=%d", rate), func(b *testing.B) {
			cfg := adcsim.DefaultConfig()
			cfg.Signal, cfg.Rate, cfg.Channels, cfg.SampleType = "counter", rate, 1, "i16"
			_, _, r, rd := benchChain(b, cfg)
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
	rd := openReader(b, s.info.Name)
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
		firstColumns(buf[:n], &line, func(v int64) {
			if v%testSamples == testSamples-1 && v/testSamples >= 100 {
				mu.Lock()
				lat = append(lat, now.Sub(sentAt[uint32(v/testSamples)]))
				mu.Unlock()
			}
		})
	}
	b.StopTimer()
	reportLatency(b, "", lat)
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
	reportLatency(b, "", lat)
}
