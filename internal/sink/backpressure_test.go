package sink

import (
	"bytes"
	"fmt"
	"testing"
	"time"
)

// TestLateReaderBoundedAndExactDrops: nothing reads the virtual port while
// 2000 frames arrive (R not started yet). The sink must not grow beyond
// --buffer, and when the reader opens the port, every frame it does not
// get must be in the reported drop ranges, and no other.
func TestLateReaderBoundedAndExactDrops(t *testing.T) {
	for _, policy := range []string{DropOldest, DropNewest, Block} {
		t.Run(policy, func(t *testing.T) {
			const total = 2000
			var sk *Sink
			r := startSink(t, newTServerURL(t, func(c *tconn) {
				c.hello(t, 0, nil)
				c.frames(t, 0, total-1)
			}), func(o *Options) {
				o.Buffer, o.WhenFull = 200*time.Millisecond, policy
				o.onSink = func(s *Sink) { sk = s }
			})
			// the reader opens once every frame has arrived (or, under
			// block, the sink waits for room), however slowly they come
			maxDur := watchQueue(sk, 10*time.Second, func() bool { return sk.st.frames.Load() == total || sk.q.isBlocked() })
			rd := openLikeR(t, r.info.Name)
			// read until every frame is either read or counted as dropped
			var out []byte
			for end := time.Now().Add(10 * time.Second); time.Now().Before(end); {
				out = append(out, readQuiet(t, rd, 100*time.Millisecond, time.Second)...)
				df, _ := sk.q.dropTotals()
				if uint64(bytes.Count(out, []byte{'\n'})/testSamples)+df >= total {
					break
				}
			}
			got := seqsOf(t, out)
			sum := r.stop(t)
			if maxDur > 200*time.Millisecond {
				t.Errorf("queue held %s of stream, more than --buffer 200ms", maxDur)
			}
			miss := missing(got, total)
			if fmt.Sprint(miss) != fmt.Sprint(sum.DropRanges) {
				t.Errorf("reader missed %v, sink reported drops %v", miss, sum.DropRanges)
			}
			if sum.DroppedFrames+uint64(len(got)) != total || sum.DroppedSamples != sum.DroppedFrames*testSamples {
				t.Errorf("read %d frames + dropped %d (%d samples) != %d sent", len(got), sum.DroppedFrames, sum.DroppedSamples, total)
			}
			switch {
			case policy == Block && sum.DroppedFrames != 0:
				t.Errorf("block dropped %d frames", sum.DroppedFrames)
			case policy != Block && sum.DroppedFrames == 0:
				t.Errorf("%s dropped nothing: the test did not fill the port", policy)
			case policy == DropOldest && got[len(got)-1] != total-1:
				// the newest frame is never dropped under drop-oldest: nothing newer comes
				t.Errorf("drop-oldest: last frame read %d, want the newest %d", got[len(got)-1], total-1)
			}
			// Under drop-newest the newest frame is dropped only if the queue is
			// full when it arrives, which here depends on when the kernel lets
			// the pty take more bytes: TestQueueWhenFull pins
			// which frames that policy keeps and drops.
			t.Logf("%s: read %d frames, dropped %v", policy, len(got), sum.DropRanges)
		})
	}
}

// newTServerURL starts a test server that runs script on each connection.
func newTServerURL(t *testing.T, script func(c *tconn)) string {
	ts := newTServer(t, false)
	go func() {
		for c := range ts.conns {
			script(c)
			t.Cleanup(c.release)
		}
	}()
	return ts.url()
}

// watchQueue samples the queue for d, or until done() if done is not nil,
// and returns the largest duration seen.
func watchQueue(s *Sink, d time.Duration, done func() bool) time.Duration {
	end := time.Now().Add(d)
	var maxD time.Duration
	for time.Now().Before(end) && (done == nil || !done()) {
		q, _ := s.q.level()
		maxD = max(maxD, q)
		time.Sleep(time.Millisecond)
	}
	return maxD
}
