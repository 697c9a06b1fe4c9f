package testsupport

import (
	"strconv"
	"strings"
	"testing"
)

// MetricsText GETs base + "/metrics" (base is serve's http:// address)
// and returns the page; anything but a 200 fails the test.
func MetricsText(t testing.TB, base string) string {
	t.Helper()
	return string(getOK(t, base+"/metrics"))
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
