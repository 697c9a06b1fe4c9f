package e2e

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wsbridge/wsbridge/internal/adcsim"
	"github.com/wsbridge/wsbridge/internal/serve"
	"github.com/wsbridge/wsbridge/internal/sink"
	"github.com/wsbridge/wsbridge/internal/testenv"
	"github.com/wsbridge/wsbridge/internal/testsupport"
)

// TestTextSketchToR: a plain Serial.println sketch (the simulator's
// Serial Plotter text wire, counter values labelled counter0, counter1,
// ...) at 10 Hz x 1 and 16 kHz x 3 channels, into serve with nothing but
// --port, to `sink --virtual --header`, read by R with the base R recipe
// (file(raw = TRUE, blocking = FALSE) + readLines) from the sink's first
// line: R gets the header with the sketch's labels, then every value
// once and in order (channel c = channel 0 + c), and no gap or restart
// line, through the rate's measurement and announcement.
func TestTextSketchToR(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test with R: skipped with -short")
	}
	testenv.Need(t, "Rscript", "r-base-core") // before starting anything
	for _, c := range []struct {
		rate  uint32
		chans int
		rows  int
	}{{10, 1, 30}, {16000, 3, 48000}} {
		t.Run(fmt.Sprintf("%dHz/%dch", c.rate, c.chans), func(t *testing.T) {
			checkTextToR(t, c.rate, c.chans, c.rows)
		})
	}
}

func checkTextToR(t *testing.T, rate uint32, chans, rows int) {
	sim := startSim(t, textCounterConfig(rate, chans, adcsim.WirePlotter), 0, 0)
	o := serve.DefaultOptions()
	o.Capture.Port = sim.link // and nothing else: input auto, rate measured
	srv := startServe(t, o)

	so := sink.DefaultOptions()
	so.URL, so.StatusInterval, so.Header = srv.ws, 0, true
	so.Buffer = 2 * time.Minute // R starts in seconds on a loaded machine: the sink must not drop meanwhile
	link := startSink(t, so, nil).link

	lines := testsupport.ReadLinesR(t, link, rows+1, 40*time.Second)
	var names []string
	for c := range chans {
		names = append(names, fmt.Sprintf("counter%d", c))
	}
	if want := strings.Join(names, ","); len(lines) == 0 || lines[0] != want {
		t.Fatalf("R read %q first, want the header with the sketch's labels %q", lines[:min(len(lines), 1)], want)
	}
	checkTextRows(t, lines[1:], chans, rows)
}

// checkTextRows checks the data lines R read: numbers only, each row the
// counter's next value on channel 0 and channel 0 + c on channel c.
func checkTextRows(t *testing.T, lines []string, chans, rows int) {
	t.Helper()
	if len(lines) < rows {
		t.Fatalf("R read %d rows, want at least %d", len(lines), rows)
	}
	prev := int64(-1)
	for i, l := range lines {
		f := strings.Split(l, ",")
		if strings.HasPrefix(l, "#") || len(f) != chans {
			t.Fatalf("R's row %d: %q: want %d numbers (no gap, restart or header line)", i, l, chans)
		}
		var v0 int64
		for c, s := range f {
			v, err := strconv.ParseInt(s, 10, 64)
			if err != nil || c > 0 && v != v0+int64(c) {
				t.Fatalf("R's row %d: %q: want the counter %d+c on channel c", i, l, v0)
			}
			if c == 0 {
				v0 = v
			}
		}
		if prev >= 0 && v0 != prev+1 {
			t.Fatalf("R's row %d: %d after %d: a value lost, repeated or reordered", i, v0, prev)
		}
		prev = v0
	}
	t.Logf("R read %d rows, counter %d..%d, in order, exactly once", len(lines), prev-int64(len(lines))+1, prev)
}
