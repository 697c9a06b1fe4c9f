package sink

import (
	"bytes"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/wsbridge/wsbridge/internal/vport"
)

// TestRealPortUnplugReopens: --port on a serial device (a pty opened with
// go.bug.st/serial, like a USB adapter) that disappears and comes back
// under the same name. The sink reopens it; what the far end misses is
// exactly what the sink reports as dropped.
func TestRealPortUnplugReopens(t *testing.T) {
	link := filepath.Join(t.TempDir(), "ttyUSBX")
	far, err := vport.Create(link) // the far end of the null-modem cable
	if err != nil {
		t.Fatal(err)
	}
	ts := newTServer(t, false)
	r := startSink(t, ts.url(), func(o *Options) { o.Virtual, o.Port = "", link })
	c := ts.accept(t)
	c.hello(t, 0, nil)
	c.frames(t, 0, 99)
	got := readUntil(t, far, 5*time.Second, lineCount(100*testSamples))
	far.Close() // unplugged
	c.frames(t, 100, 199)
	// the sink noticed before the plug comes back
	r.log.WaitLogEntries(t, "output port gone", 1, 10*time.Second)
	far, err = vport.Create(link) // plugged in again, same name
	if err != nil {
		t.Fatal(err)
	}
	defer far.Close()
	c.frames(t, 200, 299)
	got = append(got, readUntil(t, far, 5*time.Second, func(b []byte) bool {
		return bytes.HasSuffix(b, []byte(wantCSV(299, 299)))
	})...)
	sum := r.stop(t)
	miss := missing(seqsOf(t, got), 300)
	if fmt.Sprint(miss) != fmt.Sprint(sum.DropRanges) {
		t.Errorf("far end missed frames %v; sink reported drops %v", miss, sum.DropRanges)
	}
	if len(r.log.LogEntries("output port back")) != 1 {
		t.Errorf("no 'output port back' log:\n%s", r.log.String())
	}
	t.Logf("missed %v, reported %v, write errors %d", miss, sum.DropRanges, sum.WriteErrors)
}
