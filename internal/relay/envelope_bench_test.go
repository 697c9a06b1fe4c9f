package relay

import (
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/wsbridge/wsbridge/internal/testsupport"
)

// BenchmarkEnvelopeMemoryPerClient is BenchmarkMemoryPerClient for page
// clients on ?envelope=64: the server's heap and stacks per client, after
// 100 batches (each frame its own batch).
func BenchmarkEnvelopeMemoryPerClient(b *testing.B) {
	benchMemoryPerClient(b, "/ws?envelope=64", func(ch *Channel) { setBatching(ch, 0) })
}

// BenchmarkEnvelopeFanOut publishes frames of 10 ms at 48 kHz, each its
// own batch, to 1000 envelope clients (in this process, each draining its
// socket): ns/op is per batch delivered to all of them. It reports the
// allocations per envelope delivered and the envelopes computed per batch
// (1: shared), counts that the machine's load does not change.
func BenchmarkEnvelopeFanOut(b *testing.B) {
	const n = 1000
	s, base := testServer(b, Options{MaxClients: n, PingInterval: time.Hour})
	setBatching(s, 0)
	for j := 0; j < n; j++ {
		c, r := rawHandshake(b, strings.TrimPrefix(base, "http://"), "/ws?envelope=64")
		go drainAnswering(c, r) // without pongs each client would stop at 128 KiB in flight
		b.Cleanup(func() { c.Close() })
	}
	testsupport.WaitFor(b, 10*time.Second, "clients", func() bool { return clients(s) == n })
	sent0 := s.stats.messagesSent.Load()
	comp0 := s.stats.envComputed.Load()
	p := benchPacket(b, 0, 480)
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		setSeq(p, uint32(i))
		s.Packet(p)
		for i%16 == 0 && s.stats.messagesSent.Load()-sent0 < uint64(i)*n/2 { // stay within the history
			time.Sleep(100 * time.Microsecond)
		}
	}
	want := sent0 + uint64(b.N)*n
	testsupport.WaitFor(b, 60*time.Second, "every envelope delivered", func() bool { return s.stats.messagesSent.Load() >= want })
	b.StopTimer()
	runtime.ReadMemStats(&m1)
	b.ReportMetric(float64(m1.Mallocs-m0.Mallocs)/float64(b.N*n), "allocs/envelope")
	b.ReportMetric(float64(s.stats.envComputed.Load()-comp0)/float64(b.N), "computations/batch")
	if d := s.Info().Counters["client_dropped_frames_total"]; d != 0 {
		b.Fatalf("%v frames dropped", d)
	}
}
