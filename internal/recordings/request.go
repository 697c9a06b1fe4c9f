package recordings

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/wsbridge/wsbridge/internal/record"
)

// StartRequest is the body of POST /api/channels/NAME/record. Every field
// is optional.
type StartRequest struct {
	// Labels go into every sidecar's labels and into the file names:
	// ["speaker=ann", "word=yes"] or {"speaker": "ann", "word": "yes"}.
	Labels Labels `json:"labels"`
	// Format is record's --format: auto (default), wav or csv.
	Format string `json:"format"`
	// OnGap is record's --on-gap: split (default), zero or keep.
	OnGap string `json:"on_gap"`
	// Duration, e.g. "30s", ends the recording by itself after that much
	// stream time; "" records until stopped.
	Duration string `json:"duration"`
	// RotateEvery ("10m") and RotateSize ("100MB") start new files.
	RotateEvery string `json:"rotate_every"`
	RotateSize  string `json:"rotate_size"`

	duration, rotateEvery time.Duration
}

// Labels are key=value pairs, in the order given. In JSON a list of
// "key=value" strings or an object (taken in key order).
type Labels []string

// UnmarshalJSON takes a list of "key=value" strings or an object.
func (l *Labels) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '{' {
		var m map[string]string
		if err := json.Unmarshal(b, &m); err != nil {
			return fmt.Errorf("labels: want [\"key=value\", ...] or {\"key\": \"value\", ...}: %w", err)
		}
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		*l = nil
		for _, k := range keys {
			*l = append(*l, k+"="+m[k])
		}
		return nil
	}
	var s []string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("labels: want [\"key=value\", ...] or {\"key\": \"value\", ...}: %w", err)
	}
	*l = s
	return nil
}

// Map is the labels as an object.
func (l Labels) Map() map[string]string {
	m := map[string]string{}
	for _, kv := range l {
		k, v, _ := strings.Cut(kv, "=")
		m[k] = v
	}
	return m
}

const (
	maxLabels     = 32
	maxLabelValue = 256
)

// check validates the request (names as in the JSON body) and parses
// its durations.
func (r *StartRequest) check() error {
	if len(r.Labels) > maxLabels {
		return fmt.Errorf("labels: %d given, at most %d", len(r.Labels), maxLabels)
	}
	seen := map[string]bool{}
	for _, kv := range r.Labels {
		k, v, ok := strings.Cut(kv, "=")
		switch {
		case !ok || !record.LabelKey.MatchString(k):
			return fmt.Errorf("label %q: want key=value, the key of 1 to 64 letters, digits, '_', '.' or '-'", kv)
		case seen[k]:
			return fmt.Errorf("label %q: key %q is given twice", kv, k)
		case len(v) > maxLabelValue:
			return fmt.Errorf("label %q: the value is longer than %d bytes", k, maxLabelValue)
		case strings.IndexFunc(v, unicode.IsControl) >= 0:
			return fmt.Errorf("label %q: the value holds a control character", k)
		}
		seen[k] = true
	}
	switch r.Format {
	case "", "auto", "wav", "csv":
	default:
		return fmt.Errorf("format %q: want auto, wav or csv", r.Format)
	}
	switch r.OnGap {
	case "", "split", "zero", "keep":
	default:
		return fmt.Errorf("on_gap %q: want split, zero or keep", r.OnGap)
	}
	var err error
	if r.duration, err = parseDuration("duration", r.Duration); err != nil {
		return err
	}
	r.rotateEvery, err = parseDuration("rotate_every", r.RotateEvery)
	return err
}

func parseDuration(field, s string) (time.Duration, error) {
	if s == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("%s %q: want a duration such as 30s, 10m or 1h", field, s)
	}
	return d, nil
}

// File name parts: the channel, then each label as key=value with the
// value made safe, as long as the prefix stays under maxPrefix; record
// adds -UTCTIME-seqSEQ.EXT. The sidecar holds the labels exactly.
const (
	maxLabelPart = 40
	maxPrefix    = 120
)

var (
	unsafeChars = regexp.MustCompile(`[^A-Za-z0-9_.-]+`)
	dots        = regexp.MustCompile(`\.{2,}`)
)

// fileName is the file name prefix for channel's recording with labels:
// "mic-speaker=ann-word=yes". Nothing in it can leave the directory: it
// holds letters, digits, '_', '.', '=', '-' only, never "..".
func fileName(channel string, labels Labels) string {
	name := channel
	for _, kv := range labels {
		k, v, _ := strings.Cut(kv, "=")
		v = strings.Trim(dots.ReplaceAllString(unsafeChars.ReplaceAllString(v, "_"), "."), "_.")
		part := k
		if v != "" {
			part += "=" + v
		}
		if len(part) > maxLabelPart {
			part = strings.TrimRight(part[:maxLabelPart], "_.=-")
		}
		if len(name)+1+len(part) > maxPrefix {
			break
		}
		name += "-" + part
	}
	return dots.ReplaceAllString(name, ".")
}
