//go:build linux

package e2e

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wsbridge/wsbridge/internal/frame"
	"github.com/wsbridge/wsbridge/internal/vport"
)

// BenchmarkHistoryFloodRSS floods the wsbridge binary, reading a real pty,
// with degenerate frames and reports its RSS against --history-bytes
// (issue 13.3). Run it once per case:
//
//	go test -run '^$' -bench HistoryFloodRSS -benchtime 1x ./internal/e2e
//
// count0: frames without samples (28-byte packets, zero duration: only
// --history-bytes bounds the ring), written flat out, 16 MiB cap.
// json-csv: 128-sample frames (284-byte packets) flat out with one JSON
// and one CSV client, whose renderings (about 5 times the packet) used to
// lie outside the cap, 64 MiB cap.
// Reported: rss-peak-MiB (sampled every 50 ms), rss-after-MiB (5 s after
// the flood), cap-MiB, over-cap-MiB (peak minus cap), frames/s published.
func BenchmarkHistoryFloodRSS(b *testing.B) {
	cases := []struct {
		name    string
		count   int
		formats []string
		capMiB  int
		dur     time.Duration
	}{
		{"count0", 0, nil, 16, 10 * time.Second},
		{"json-csv", 128, []string{"json", "csv"}, 64, 20 * time.Second},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			for range b.N {
				floodOnce(b, c.count, c.formats, c.capMiB, c.dur)
			}
		})
	}
}

func floodOnce(b *testing.B, count int, formats []string, capMiB int, dur time.Duration) {
	link := filepath.Join(b.TempDir(), "ttyFLOOD")
	port, err := vport.Create(link)
	if err != nil {
		b.Fatal(err)
	}
	defer port.Close()
	p := startServeBinary(b, "--port", link, "--input", "frames", "--history", "1h",
		"--history-bytes", fmt.Sprint(capMiB<<20), "--ping-interval", "1h")
	srv := &serveRig{base: p.base, ws: p.ws}
	rss0 := p.rssKiB(b)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	var received atomic.Int64
	for _, f := range formats {
		conn, err := dialWS(p.ws+"?format="+f, nil)
		if err != nil {
			b.Fatal(err)
		}
		conn.SetReadLimit(1 << 24)
		wg.Go(func() {
			defer conn.CloseNow()
			for ctx.Err() == nil {
				if _, msg, err := conn.Read(ctx); err != nil {
					return
				} else {
					received.Add(int64(len(msg)))
				}
			}
		})
	}
	wg.Go(func() { floodWriter(ctx, port, count) })
	peak := rss0
	t0 := time.Now()
	for time.Since(t0) < dur {
		time.Sleep(50 * time.Millisecond)
		peak = max(peak, p.rssKiB(b))
	}
	cancel()
	wg.Wait()
	m := srv.metrics(b)
	frames := m["frames_received_total"]
	time.Sleep(5 * time.Second)
	after := p.rssKiB(b)
	b.ReportMetric(float64(peak)/1024, "rss-peak-MiB")
	b.ReportMetric(float64(after)/1024, "rss-after-MiB")
	b.ReportMetric(float64(capMiB), "cap-MiB")
	b.ReportMetric(float64(peak)/1024-float64(capMiB), "over-cap-MiB")
	b.ReportMetric(frames/dur.Seconds(), "frames/s")
	b.Logf("count %d, clients %v, cap %d MiB: %.0f frames in %v (history holds %.0f frames, %.1f MiB as counted); clients read %.1f MB; serve RSS %d KiB idle, %d KiB peak, %d KiB 5 s later",
		count, formats, capMiB, frames, dur, m["history_frames"], m["history_bytes"]/(1<<20), float64(received.Load())/1e6, rss0, peak, after)
}

// floodWriter writes data frames of count samples (1 channel, i16) into
// the pty as fast as serve reads them, in 64 KiB writes, until ctx ends.
func floodWriter(ctx context.Context, port *vport.Port, count int) {
	f := frame.Frame{Rate: 16000, Channels: 1, SampleType: frame.I16, Count: uint16(count)}
	f.Data = make([]byte, f.PayloadSize())
	var pkt, buf []byte
	for seq := uint32(0); ctx.Err() == nil; {
		buf = buf[:0]
		for len(buf) < 64<<10 {
			f.Seq, f.TimeUS = seq, uint64(seq)*1000
			pkt, _ = frame.AppendFrame(pkt[:0], &f)
			buf = frame.AppendSerial(buf, pkt)
			seq++
		}
		_ = port.SetWriteDeadline(time.Now().Add(200 * time.Millisecond))
		for off := 0; off < len(buf) && ctx.Err() == nil; {
			n, err := port.Write(buf[off:])
			off += n
			if err != nil && n == 0 {
				time.Sleep(time.Millisecond)
				_ = port.SetWriteDeadline(time.Now().Add(200 * time.Millisecond))
			}
		}
	}
}
