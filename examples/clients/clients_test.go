// Package clients holds the frame decoders in Python, JavaScript and R that
// README.md shows to people writing their own WebSocket clients. The test
// runs each against the golden packets.
package clients

import (
	"encoding/json"
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

func runJSON(t *testing.T, c *frametest.Case, name string, args ...string) {
	t.Helper()
	out, err := exec.Command(name, append(args, "--hex", c.Hex)...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v\n%s", c.Name, err, out)
	}
	var got decoded
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("%s: %v: %s", c.Name, err, out)
	}
	if w := want(c); fmt.Sprint(got) != fmt.Sprint(w) {
		t.Errorf("%s:\n got %v\nwant %v", c.Name, got, w)
	}
}

func TestPythonDecoder(t *testing.T) {
	py := testenv.Need(t, "python3", "python3")
	for _, c := range dataCases() {
		runJSON(t, &c, py, "frame.py")
	}
}

func TestJavaScriptDecoder(t *testing.T) {
	node := testenv.Need(t, "node", "nodejs")
	for _, c := range dataCases() {
		runJSON(t, &c, node, "frame.js")
	}
}

func TestRDecoder(t *testing.T) {
	r := testenv.Need(t, "Rscript", "r-base-core")
	for _, c := range dataCases() {
		out, err := exec.Command(r, "frame.R", "--hex", c.Hex).CombinedOutput()
		if err != nil {
			t.Fatalf("%s: %v\n%s", c.Name, err, out)
		}
		if got, w := parseR(t, string(out)), want(&c); fmt.Sprint(got) != fmt.Sprint(w) {
			t.Errorf("%s:\n got %v\nwant %v", c.Name, got, w)
		}
	}
}

// parseR reads frame.R's output: a header line, then one line of samples per channel.
func parseR(t *testing.T, out string) decoded {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(out), "\n")
	var d decoded
	if _, err := fmt.Sscanf(lines[0], "seq=%d t_dev_us=%d rate=%d type=%s", &d.Seq, &d.TimeUS, &d.Rate, &d.SampleType); err != nil {
		t.Fatalf("header %q: %v", lines[0], err)
	}
	for _, l := range lines[1:] {
		var ch []float64
		for _, f := range strings.Fields(l) {
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
