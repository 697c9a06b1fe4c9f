package sink

import (
	"bytes"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestE2EFreshServeAndDeviceIsOneRestart is issue 13.1's reproduction:
// sim (counter) -> serve -> sink -> a reader; then serve and the sim are
// replaced by fresh ones on the same address. The sink resumed with
// since=~500 and used to wait for frame 500 of the new count (the reader
// stalled, then saw a continuous-looking counter: 0 restarts, 0 gaps).
// Now it resumes with the epoch, the new serve answers at once with a
// restart, and the reader gets a restart line, then the new count from its
// start, without a stall.
func TestE2EFreshServeAndDeviceIsOneRestart(t *testing.T) {
	t.Parallel() // mostly waiting: overlaps with the other parallel tests
	needE2E(t)
	link1, _ := startSim(t, e2eRate)
	sp1 := startServe(t, link1, "127.0.0.1:0", 10*time.Second)
	listen := strings.TrimSuffix(strings.TrimPrefix(sp1.WS, "ws://"), "/ws")
	r := startSink(t, sp1.WS, nil)
	rd := openLikeR(t, r.info.Name)
	before := readUntil(t, rd, 5*time.Second, lineCount(500))
	sp1.Stop()
	link2, _ := startSim(t, e2eRate) // a fresh device: its counter starts at 0
	time.Sleep(300 * time.Millisecond)
	restarted := time.Now()
	startServe(t, link2, listen, 10*time.Second)
	var after []byte
	var waited time.Duration
	after = readUntil(t, rd, 5*time.Second, func(b []byte) bool {
		if waited == 0 && bytes.Contains(b, []byte("# restart")) {
			waited = time.Since(restarted)
		}
		return waited > 0 && bytes.Count(b[bytes.Index(b, []byte("# restart")):], []byte{'\n'}) > 200
	})
	sum := r.stop(t)
	out := append(before, after...)
	restartLines := regexp.MustCompile(`(?m)^# restart epoch=([0-9a-f]{8}) seq=(\d+)$`).FindAllSubmatch(out, -1)
	if len(restartLines) != 1 || sum.Restarts != 1 || sum.Duplicates != 0 {
		t.Fatalf("%d restart lines, summary restarts %d duplicates %d; want exactly one restart and no duplicates",
			len(restartLines), sum.Restarts, sum.Duplicates)
	}
	i := bytes.Index(out, []byte("# restart"))
	old, fresh := counterValues(t, out[:i], FormatCSV), counterValues(t, out[i:], FormatCSV)
	if h := holes(t, old); len(h) != 0 {
		t.Errorf("holes before the restart: %v", h)
	}
	if len(fresh) == 0 || fresh[0] >= old[len(old)-1] {
		t.Errorf("after the restart the counter starts at %v (before it reached %d): not a new count", fresh[:min(1, len(fresh))], old[len(old)-1])
	}
	if epoch := string(restartLines[0][1]); epoch != sum.Epoch {
		t.Errorf("restart line names epoch %s, the sink ends in %s", epoch, sum.Epoch)
	}
	if waited > 3*time.Second {
		t.Errorf("the new count reached the reader %s after serve restarted: the resume waited", waited)
	}
	t.Logf("restart line %q after %s; before: %d samples, after: first %d", restartLines[0][0], waited.Round(time.Millisecond), len(old), fresh[0])
}
