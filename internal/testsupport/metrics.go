package testsupport

import (
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
)

// MetricsText GETs base + "/metrics" (base is serve's http:// address)
// and returns the page; anything but a 200 fails the test.
func MetricsText(t testing.TB, base string) string {
	t.Helper()
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatalf("GET %s/metrics: %v", base, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("failed to read %s/metrics: %v", base, err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s/metrics: %s\n%s", base, resp.Status, b)
	}
	return string(b)
}

// ParseMetrics reads a Prometheus text page into name -> value. Each
// sample is there under its name with its labels, as written
// (`wsbridge_device_gaps_total{channel="mic"}`), and the samples of a
// labelled name are also summed under the bare name
// (`wsbridge_device_gaps_total`): a test of one channel, or one that
// wants the total over labels, reads that. Comments and lines that are
// not "name value" are skipped.
func ParseMetrics(page string) map[string]float64 {
	m := map[string]float64{}
	for line := range strings.SplitSeq(page, "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if i < 0 {
			continue
		}
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			continue
		}
		name := line[:i]
		m[name] = v
		if bare, _, labelled := strings.Cut(name, "{"); labelled {
			m[bare] += v
		}
	}
	return m
}
