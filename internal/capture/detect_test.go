package capture

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

// The detector decides on the evidence the real decoders accept.
func TestDetectorDecides(t *testing.T) {
	t0 := time.Unix(0, 0)
	noise := bytes.Repeat([]byte("\xe0\x12boot"), 10)
	for _, tc := range []struct {
		name  string
		in    []byte
		after time.Duration
		want  string
	}{
		{"one packet after noise", append(append(append([]byte{}, noise...), 0), counterFrames(0, 1, 16, 1)...), 0, InputFrames},
		{"packet split in two writes", counterFrames(7, 8, 16, 2), 0, InputFrames},
		{"three numeric lines", []byte("boot log\n1,2\n3,4\na:5 b:6\n"), 0, InputText},
		{"two numeric lines: wait", []byte("1,2\n3,4\n"), 0, ""},
		{"two numeric lines after soft time", []byte("1,2\n3,4\n"), softTime, InputText},
		{"device text is not numbers", []byte("# ok\n# info\nhello 1\nx,y\n"), 0, ""},
		{"nothing after hard time", noise, hardTime, InputFrames},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var d detector
			half := len(tc.in) / 2
			d.add(tc.in[:half], t0)
			d.add(tc.in[half:], t0)
			got, why := d.decide(t0.Add(tc.after))
			if got != tc.want {
				t.Fatalf("decide = %q (%s), want %q", got, why, tc.want)
			}
			if got != "" && !strings.Contains(why, "bytes") {
				t.Errorf("evidence %q does not say how many bytes were seen", why)
			}
		})
	}
}
