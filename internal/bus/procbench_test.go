//go:build linux

package bus_test

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/wsbridge/wsbridge/internal/procstat"
	"github.com/wsbridge/wsbridge/internal/testsupport"
)

// BenchmarkBusCPUProcesses is BusCPU's comparison as users run it: every
// serve is its own `wsbridge serve` process (built from this tree, --procs
// auto), so each has its own runtime and the bench's own goroutines share
// none of them. A board publishes 160-sample frames at 1000 a second, one
// at a time, on /pub/mic and a client reads /ws/mic in binary; both run in
// the bench process and are not counted. Without the bus: one serve with
// the board and the client. With it: serve A with the board (--bus, site
// lab1), serve B with the client (--bus, no device: a front-end), one
// nats-server process (reported apart). CPU is the serve processes' time
// on CPU (every thread's schedstat) over 10 s, per frame the client
// received.
//
//	go test -run '^$' -bench BusCPUProcesses -benchtime 1x -count 3 ./internal/bus/
func BenchmarkBusCPUProcesses(b *testing.B) {
	bin, err := wsbridgeBin()
	if err != nil {
		b.Fatal(err)
	}
	for _, withBus := range []bool{false, true} {
		name := "without_bus"
		if withBus {
			name = "with_bus"
		}
		b.Run(name, func(b *testing.B) {
			var nats []*natsProc
			onBus := func(site string) []string { return nil }
			if withBus {
				nats = runNATSProcs(b, 1)
				onBus = func(site string) []string { return []string{"--bus", natsURL(nats), "--bus-site", site} }
			}
			dir := b.TempDir()
			conf := filepath.Join(dir, "a.yaml")
			if err := os.WriteFile(conf, []byte("devices:\n  - {name: mic, network: true, token: bench-board}\n"), 0o600); err != nil {
				b.Fatal(err)
			}
			a := startServeProc(b, bin, append([]string{"--log-level", "warn", "--config", conf}, onBus("lab1")...)...)
			serves, front := []*serveProc{a}, a
			if withBus {
				front = startServeProc(b, bin, append([]string{"--log-level", "warn"}, onBus("front")...)...)
				serves = append(serves, front)
			}
			pub := dialPublisher(b, a.base+"/pub/mic")
			t0 := time.Now()
			publish := func(seq int) {
				if err := pub.Write(context.Background(), websocket.MessageBinary, stamped(b, uint32(seq), t0, 160).Raw); err != nil {
					b.Fatalf("publish frame %d: %v", seq, err)
				}
			}
			publish(0)
			waitChannel(b, "http://"+front.addr, "mic")
			r := readFrames(b, "ws://"+front.addr+"/ws/mic", t0)
			time.Sleep(500 * time.Millisecond) // settle: connections, consumers
			c0, n0, w0 := procsCPU(b, serves), procCPU(nats), time.Now()
			b.ResetTimer()
			n := pace(1000, 10*time.Second, publish)
			testsupport.WaitFor(b, 30*time.Second, "every frame", func() bool { return r.count() >= n })
			b.StopTimer()
			used, natsUsed, wall := procsCPU(b, serves)-c0, procCPU(nats)-n0, time.Since(w0)
			b.ReportMetric(float64(used.Microseconds())/float64(n), "serve_cpu_µs/frame")
			b.ReportMetric(100*used.Seconds()/wall.Seconds(), "serve_cpu_%")
			b.ReportMetric(float64(natsUsed.Microseconds())/float64(n), "nats_cpu_µs/frame")
			p50, p99 := r.percentiles()
			b.ReportMetric(float64(p50.Microseconds()), "p50_µs")
			b.ReportMetric(float64(p99.Microseconds()), "p99_µs")
		})
	}
}

// dialPublisher connects a board to url with the bench board's token and
// reads serve's greeting.
func dialPublisher(b *testing.B, url string) *websocket.Conn {
	b.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, url, &websocket.DialOptions{HTTPHeader: http.Header{"Authorization": {"Bearer bench-board"}}})
	if err != nil {
		b.Fatalf("dial %s: %v", url, err)
	}
	b.Cleanup(func() { c.CloseNow() })
	if _, _, err := c.Read(ctx); err != nil {
		b.Fatalf("%s: no greeting: %v", url, err)
	}
	go func() { // commands and pings: read and drop, so pongs are answered
		for {
			if _, _, err := c.Read(context.Background()); err != nil {
				return
			}
		}
	}()
	return c
}

// procsCPU is the time on CPU so far of every thread of the serves.
func procsCPU(b *testing.B, ps []*serveProc) time.Duration {
	var total time.Duration
	for _, p := range ps {
		cpu, _, err := procstat.Sched(p.cmd.Process.Pid)
		if err != nil {
			b.Fatal(err)
		}
		total += cpu
	}
	return total
}
