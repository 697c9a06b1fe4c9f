//go:build linux

package sink

import (
	"bufio"
	"context"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/wsbridge/wsbridge/internal/frame"
)

// BenchmarkDegenerateFlood is issue 13.3's flood: frames that last 0 s
// (0 samples, or a rate of 0) arriving as fast as a server can send them,
// into a sink whose port nobody reads, with the default caps (64 MiB, 65
// 536 entries). It reports the process's RSS growth and the queue's peak;
// the queue must stay within its caps, so RSS within them plus a constant.
// One op is one frame.
//
//	go test -run '^$' -bench DegenerateFlood -benchtime 1000000x ./internal/sink/
func BenchmarkDegenerateFlood(b *testing.B) {
	for _, tc := range []struct {
		name          string
		format        string
		count, rate   int
		wantQueueFull bool
	}{
		{"csv_count0", FormatCSV, 0, 1000, false},
		{"raw_count0", FormatRaw, 0, 1000, true},
		{"csv_rate0", FormatCSV, 1, 0, true},
	} {
		b.Run(tc.name, func(b *testing.B) {
			var sk *Sink
			ts := newTServer(b, false)
			r := startSink(b, ts.url(), func(o *Options) {
				o.Format = tc.format
				o.MaxBufferBytes, o.MaxBufferEntries = DefaultOptions().MaxBufferBytes, DefaultOptions().MaxBufferEntries
				o.onSink = func(s *Sink) { sk = s }
			})
			var c *tconn
			select {
			case c = <-ts.conns:
			case <-time.After(10 * time.Second):
				b.Fatal("no connection")
			}
			defer c.release()
			c.hello(b, 0, nil)
			f := frame.Frame{Rate: uint32(tc.rate), Channels: 1, SampleType: frame.I16, Count: uint16(tc.count), Data: make([]byte, 2*tc.count)}
			runtime.GC()
			rss0 := vmRSS(b)
			peakEntries, peakBytes := 0, 0
			b.ResetTimer()
			var msg []byte
			for i := range b.N {
				f.Seq = uint32(i)
				msg, _ = frame.AppendFrame(msg[:0], &f)
				if err := c.c.Write(context.Background(), websocket.MessageBinary, msg); err != nil {
					b.Fatal(err)
				}
				if i%1024 == 0 {
					_, by := sk.q.level()
					peakEntries, peakBytes = max(peakEntries, sk.q.entries()), max(peakBytes, by)
				}
			}
			for sk.st.frames.Load() < uint64(b.N) {
				time.Sleep(time.Millisecond)
			}
			b.StopTimer()
			_, by := sk.q.level()
			peakEntries, peakBytes = max(peakEntries, sk.q.entries()), max(peakBytes, by)
			rss := vmRSS(b)
			r.stop(b)
			b.ReportMetric(float64(rss-rss0)/(1<<20), "rss_growth_MB")
			b.ReportMetric(float64(rss)/(1<<20), "rss_MB")
			b.ReportMetric(float64(peakEntries), "queue_entries_peak")
			b.ReportMetric(float64(peakBytes)/(1<<20), "queue_MB_peak")
			if peakEntries > DefaultOptions().MaxBufferEntries+1 || peakBytes > DefaultOptions().MaxBufferBytes {
				b.Errorf("queue over its caps: %d entries, %d bytes", peakEntries, peakBytes)
			}
		})
	}
}

// vmRSS is this process's resident set size in bytes.
func vmRSS(tb testing.TB) int {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, _ := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")))
			return kb << 10
		}
	}
	tb.Fatal("no VmRSS in /proc/self/status")
	return 0
}
