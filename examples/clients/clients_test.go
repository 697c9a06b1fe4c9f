// Package clients holds the frame decoders in Python, JavaScript and R that
// README.md shows to people writing their own WebSocket clients. The tests
// run each against the golden packets (frametest.Golden: the samples each
// must decode) and the failing ones (frametest.Failing: the error kind each
// must refuse with).
package clients

import (
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"github.com/wsbridge/wsbridge/internal/frame"
	"github.com/wsbridge/wsbridge/internal/frame/frametest"
	"github.com/wsbridge/wsbridge/internal/testenv"
)

type decoded struct {
	Seq        uint32      `json:"seq"`
	TimeUS     uint64      `json:"t_dev_us"`
	Rate       uint32      `json:"rate"`
	SampleType string      `json:"sample_type"`
	Samples    [][]float64 `json:"samples"`
}

// want is what every decoder must print for golden case c.
func want(c *frametest.Case) decoded {
	f := c.Packet.Frame
	d := decoded{Seq: f.Seq, TimeUS: f.TimeUS, Rate: f.Rate, SampleType: f.SampleType.String()}
	d.Samples = make([][]float64, f.Channels)
	for i, v := range c.Values {
		ch := i % int(f.Channels)
		d.Samples[ch] = append(d.Samples[ch], v)
	}
	return d
}

func dataCases() []frametest.Case {
	var out []frametest.Case
	for _, c := range frametest.Golden {
		if c.Packet.Type == frame.TypeData {
			out = append(out, c)
		}
	}
	return out
}

// runAll runs a decoder once (name args --hex -) on every golden data
// packet, then every failing packet a data-frame decoder meets (layers
// packet and data), one per line on stdin, and returns its output lines.
// It must exit with status 1, as some packets fail.
func runAll(t *testing.T, name string, args ...string) (good []string, bad []frametest.Bad, badOut []string) {
	t.Helper()
	var in strings.Builder
	cases := dataCases()
	for _, c := range cases {
		in.WriteString(c.Hex + "\n")
	}
	for _, c := range frametest.Failing {
		if c.Layer == frametest.LayerPacket || c.Layer == frametest.LayerData {
			bad = append(bad, c)
			in.WriteString(c.Hex + "\n")
		}
	}
	cmd := exec.Command(name, append(args, "--hex", "-")...)
	cmd.Stdin = strings.NewReader(in.String())
	out, err := cmd.Output()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 1 {
		t.Errorf("%s exited with %v, want exit status 1 (some packets are bad); stderr %s", name, err, stderr(err))
	}
	lines := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
	if len(lines) != len(cases)+len(bad) {
		t.Fatalf("%d output lines for %d packets:\n%s", len(lines), len(cases)+len(bad), out)
	}
	return lines[:len(cases)], bad, lines[len(cases):]
}

func stderr(err error) string {
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return string(exit.Stderr)
	}
	return ""
}

// check runs a decoder on the golden and failing packets: every golden one
// decodes to its samples (parse reads one output line), every failing one
// prints "error KIND: ..." with the kind the table names.
func check(t *testing.T, parse func(t *testing.T, line string) decoded, name string, args ...string) {
	t.Helper()
	good, bad, badOut := runAll(t, name, args...)
	for i, c := range dataCases() {
		if got, w := parse(t, good[i]), want(&c); fmt.Sprint(got) != fmt.Sprint(w) {
			t.Errorf("%s:\n got %v\nwant %v", c.Name, got, w)
		}
	}
	for i, c := range bad {
		if !strings.HasPrefix(badOut[i], "error "+c.Kind()+": ") {
			t.Errorf("%s: %q, want \"error %s: ...\"", c.Name, badOut[i], c.Kind())
		}
	}
}

func parseJSON(t *testing.T, line string) decoded {
	t.Helper()
	var got decoded
	if err := json.Unmarshal([]byte(line), &got); err != nil {
		t.Fatalf("%v: %s", err, line)
	}
	return got
}

func TestPythonDecoder(t *testing.T) {
	check(t, parseJSON, testenv.Need(t, "python3", "python3"), "frame.py")
}

func TestJavaScriptDecoder(t *testing.T) {
	check(t, parseJSON, testenv.Need(t, "node", "nodejs"), "frame.js")
}

func TestRDecoder(t *testing.T) {
	check(t, parseR, testenv.Need(t, "Rscript", "r-base-core"), "frame.R")
}

// parseR reads one line of frame.R's output:
// "seq=S t_dev_us=T rate=R type=TYPE | ch0 samples | ch1 samples ...".
func parseR(t *testing.T, line string) decoded {
	t.Helper()
	parts := strings.Split(strings.TrimSpace(line), " | ")
	var d decoded
	if _, err := fmt.Sscanf(parts[0], "seq=%d t_dev_us=%d rate=%d type=%s", &d.Seq, &d.TimeUS, &d.Rate, &d.SampleType); err != nil {
		t.Fatalf("line %q: %v", line, err)
	}
	for _, p := range parts[1:] {
		var ch []float64
		for _, f := range strings.Fields(p) {
			v, err := strconv.ParseFloat(f, 64)
			if err != nil {
				t.Fatalf("sample %q: %v", f, err)
			}
			ch = append(ch, v)
		}
		d.Samples = append(d.Samples, ch)
	}
	return d
}
