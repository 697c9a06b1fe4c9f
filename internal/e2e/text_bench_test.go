package e2e

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wsbridge/wsbridge/internal/serve"
	"github.com/wsbridge/wsbridge/internal/vport"
)

// BenchmarkTextLatency is bench/'s text workload in one process: counter
// lines ("i\r\n", as Serial.println prints them) written into a pty every
// millisecond, as a USB bridge delivers them, read by serve (--port only)
// and received by a ?format=json client; b.N is the number of
// milliseconds of stream (so ns/op is about 1e6: read the metrics). It
// reports the added latency, write to receive, of every line: p50-µs,
// p99-µs and max-µs. bench/ runs the same against ser2net and socat (go run
// ./bench --workloads text1k,text48k).
//
//	go test -run '^$' -bench TextLatency -benchtime 4000x ./internal/e2e/
func BenchmarkTextLatency(b *testing.B) {
	for _, rate := range []int{1000, 48000} {
		b.Run(fmt.Sprintf("lines=%d/s", rate), func(b *testing.B) { benchTextLatency(b, rate) })
	}
}

func benchTextLatency(b *testing.B, rate int) {
	p, err := vport.Create("")
	if err != nil {
		b.Fatal(err)
	}
	defer p.Close()
	o := serve.DefaultOptions()
	o.Capture.Port = p.Name()
	srv := startServe(b, o)
	conn, err := dialWS(srv.ws+"?format=json", nil)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.CloseNow()

	warm := 3 * max(1, rate/1000) // the first writes, which auto detection holds: not measured
	n := b.N*rate/1000 + warm
	base := time.Now()
	stamps := make([]atomic.Int64, n) // write time of each line, ns since base
	lat := make([]int64, 0, n)
	got := make(chan struct{})
	go func() {
		defer close(got)
		next := 0
		for next < n {
			_, msg, err := conn.Read(context.Background())
			if err != nil {
				return
			}
			now := int64(time.Since(base))
			jsonFrameValues(msg, func(v int64) {
				if v == int64(next) {
					next++
					if v >= int64(warm) {
						lat = append(lat, now-stamps[v].Load())
					}
				}
			})
		}
	}()

	b.ResetTimer()
	var buf []byte
	written := 0
	for k := 1; written < n; k++ {
		due := min(n, k*rate/1000)
		time.Sleep(time.Until(base.Add(time.Duration(k) * time.Millisecond)))
		buf = buf[:0]
		for v := written; v < due; v++ {
			buf = strconv.AppendInt(buf, int64(v), 10)
			buf = append(buf, '\r', '\n')
		}
		stamp := int64(time.Since(base))
		for v := written; v < due; v++ {
			stamps[v].Store(stamp)
		}
		if _, err := p.Write(buf); err != nil {
			b.Fatal(err)
		}
		written = due
	}
	select {
	case <-got:
	case <-time.After(10 * time.Second):
		b.Fatalf("received %d of %d lines", len(lat), n-warm)
	}
	b.StopTimer()
	if len(lat) != n-warm {
		b.Fatalf("received %d of %d lines in order", len(lat), n-warm)
	}
	slices.Sort(lat)
	q := func(f float64) float64 { return float64(lat[int(f*float64(len(lat)-1))]) / 1e3 }
	b.ReportMetric(q(0.5), "p50-µs")
	b.ReportMetric(q(0.99), "p99-µs")
	b.ReportMetric(q(1), "max-µs")
}

var (
	framePrefix = []byte(`{"type":"frame",`)
	samplesKey  = []byte(`"samples":[[`)
)

// jsonFrameValues calls fn with every value of channel 0 of a JSON frame
// message; other messages are ignored.
func jsonFrameValues(msg []byte, fn func(v int64)) {
	if !bytes.HasPrefix(msg, framePrefix) {
		return
	}
	i := bytes.Index(msg, samplesKey)
	if i < 0 {
		return
	}
	rest := msg[i+len(samplesKey):]
	if end := bytes.IndexByte(rest, ']'); end >= 0 {
		for f := range bytes.SplitSeq(rest[:end], []byte{','}) {
			if v, err := strconv.ParseInt(string(f), 10, 64); err == nil {
				fn(v)
			}
		}
	}
}
