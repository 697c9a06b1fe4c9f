package record

import (
	"encoding/json"
	"os"
	"path/filepath"

	"github.com/wsbridge/wsbridge/internal/wsproto"
)

// Sidecar is the JSON file written next to every recording (NAME.json for
// NAME.wav or NAME.csv): what the file holds, where it came from, and
// every gap. It is rewritten (atomically) when the file opens, on every
// gap, on every flush and when the file is closed; Complete is true only
// after a clean close. docs/record.md describes every field.
type Sidecar struct {
	File       string            `json:"file"`
	Format     string            `json:"format"`   // wav or csv
	Encoding   string            `json:"encoding"` // wav: pcm_s16le, pcm_s32le, float32le, pcm_s16le_u16_minus_32768; csv: text
	Complete   bool              `json:"complete"` // false while being written, or if the recorder died
	URL        string            `json:"url"`
	Server     string            `json:"server"`
	Channel    string            `json:"channel"`
	Device     *wsproto.Device   `json:"device"`
	Rate       uint32            `json:"rate"`
	Channels   int               `json:"channels"`
	SampleType string            `json:"sample_type"`
	Epoch      wsproto.Epoch     `json:"epoch"`
	FirstSeq   *uint32           `json:"first_seq"` // nil until a frame is written
	LastSeq    *uint32           `json:"last_seq"`
	Frames     uint64            `json:"frames"`     // frames written
	Samples    uint64            `json:"samples"`    // sample instants in the file, fills included
	DurationS  float64           `json:"duration_s"` // Samples / Rate
	FirstTimeU uint64            `json:"first_t_us"` // device time of the first sample, µs
	LastTimeU  uint64            `json:"last_t_us"`  // device time of the last sample, µs
	StartedAt  string            `json:"started_at"` // wall clock (UTC) when the first frame arrived
	EndedAt    string            `json:"ended_at"`   // wall clock when the file was closed (or last flushed)
	StartedBy  string            `json:"started_by"` // start, rotate, gap, restart, format
	EndedBy    string            `json:"ended_by"`   // stop, rotate_duration, rotate_size, wav_limit, gap, restart, format; "" while open
	OnGap      string            `json:"on_gap"`     // split, zero or keep
	Gaps       []GapRecord       `json:"gaps"`       // every gap learnt while this file was open (or just before it; the last file: after it, before the stop)
	Labels     map[string]string `json:"labels"`     // --label key=value
	Recorder   string            `json:"recorder"`   // "wsbridge <version>"
	Bytes      int64             `json:"bytes"`      // file size when the sidecar was written
}

// GapRecord is one gap: frames From..To (inclusive) of Epoch that never
// arrived, and where it falls in the file.
type GapRecord struct {
	From     uint32        `json:"from"`
	To       uint32        `json:"to"`
	Frames   uint64        `json:"frames"`
	Samples  *int64        `json:"samples"` // sample instants missing, when known (from the device time, or frames x frame size)
	Reason   string        `json:"reason"`  // device, history, slow_client or network
	Epoch    wsproto.Epoch `json:"epoch"`
	AtSample uint64        `json:"at_sample"` // sample instant of this file before which the gap falls
	Filled   int64         `json:"filled"`    // sample instants of silence (wav) or empty rows (csv) written for it
}

// writeSidecar writes s to path atomically (a temporary file renamed).
func writeSidecar(path string, s *Sidecar) error {
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	_, err = tmp.Write(append(b, '\n'))
	if err == nil {
		err = tmp.Chmod(0o644)
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		os.Remove(tmp.Name())
	}
	return err
}

// timeFormat is the sidecar's wall-clock format: UTC, fixed width (so the
// strings sort), microseconds.
const timeFormat = "2006-01-02T15:04:05.000000Z07:00"
