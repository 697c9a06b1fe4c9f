package adcsim

import (
	"bufio"
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestPlotterWireLabels: the plotter wire prints the Serial Plotter form,
// every value after its channel's label, the counter as on the text wire.
func TestPlotterWireLabels(t *testing.T) {
	cfg := counterConfig(WirePlotter, 1000)
	cfg.Channels = 2
	r := startRig(t, cfg)
	sc := bufio.NewScanner(r.slave)
	r.slave.SetReadDeadline(time.Now().Add(10 * time.Second))
	if !sc.Scan() || !strings.HasPrefix(sc.Text(), "# info ") {
		t.Fatalf("first line %q, want the device info line", sc.Text())
	}
	for n := 0; n < 100; n++ {
		if !sc.Scan() {
			t.Fatalf("line %d: %v", n, sc.Err())
		}
		if want := fmt.Sprintf("counter0:%d,counter1:%d", n, n+1); sc.Text() != want {
			t.Fatalf("line %d: %q, want %q", n, sc.Text(), want)
		}
	}
}
