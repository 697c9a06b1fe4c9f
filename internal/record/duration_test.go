package record

import (
	"fmt"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/wsbridge/wsbridge/internal/frame"
)

// rateFrame is frame seq of a one-channel i16 counter (sample k carries
// k) at rate (0: not measured yet, as text input before its estimate),
// testSamples per frame, at device time timeUS.
func rateFrame(t *testing.T, seq, rate uint32, timeUS uint64) []byte {
	f := frame.Frame{Seq: seq, TimeUS: timeUS, Rate: rate, Channels: 1, SampleType: frame.I16, Count: testSamples,
		Data: make([]byte, testSamples*2)}
	for i := range testSamples {
		f.PutInt(i, 0, int64(seq)*testSamples+int64(i))
	}
	b, err := frame.AppendFrame(nil, &f)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestDurationAcrossRates: --duration 2s holds 2 s of stream whatever the
// frames' rate says: frames of rate 0 (text input measuring its rate)
// count by their device time, and a change of rate carries the time the
// earlier rate covered. Before, rate 0 ended the recording at its first
// frame with nothing written, and a lower rate crashed it.
func TestDurationAcrossRates(t *testing.T) {
	for _, tc := range []struct {
		name    string
		format  string
		send    func(t *testing.T, c *sconn)
		formats []string // each file's format
		samples []uint64 // each file's sample instants
	}{
		{"text input settling", FormatWAV, func(t *testing.T, c *sconn) {
			seq := uint32(0)
			for ; seq < 15; seq++ { // rate 0 for 1.4 s of device time
				c.ws.Write(c.ctx, websocket.MessageBinary, rateFrame(t, seq, 0, uint64(seq)*100_000))
			}
			for ; seq < 200; seq++ { // then 1000 Hz: 0.6 s more is 600 samples
				c.ws.Write(c.ctx, websocket.MessageBinary, rateFrame(t, seq, 1000, 1_500_000+uint64(seq-15)*10_000))
			}
		}, []string{FormatCSV, FormatWAV}, []uint64{150, 600}},
		{"rate halves", FormatCSV, func(t *testing.T, c *sconn) {
			seq := uint32(0)
			for ; seq < 150; seq++ { // 1.5 s at 1000 Hz
				c.ws.Write(c.ctx, websocket.MessageBinary, rateFrame(t, seq, 1000, uint64(seq)*10_000))
			}
			for ; seq < 300; seq++ { // then 500 Hz: 0.5 s more is 250 samples
				c.ws.Write(c.ctx, websocket.MessageBinary, rateFrame(t, seq, 500, 1_500_000+uint64(seq-150)*20_000))
			}
		}, []string{FormatCSV, FormatCSV}, []uint64{1500, 250}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			url := scriptServer(t, func(t *testing.T, n int, c *sconn) {
				if n == 0 {
					c.hello(t, "e1", 0)
					tc.send(t, c)
				}
			})
			dir := t.TempDir()
			r := startRecord(t, Options{URLs: []string{url}, Dir: dir, Format: tc.format, Duration: 2 * time.Second})
			waitFor(t, "record to end at --duration", func() bool {
				select {
				case <-r.done:
					return true
				default:
					return false
				}
			})
			sum := r.stop(t)
			got := sidecars(t, dir)
			if len(got) != len(tc.samples) {
				t.Fatalf("%d files (%+v), want %d", len(got), got, len(tc.samples))
			}
			for i, s := range got {
				if s.Format != tc.formats[i] || s.Samples != tc.samples[i] || !s.Complete {
					t.Errorf("file %d: %s with %d samples (complete %v), want %s with %d", i, s.Format, s.Samples, s.Complete,
						tc.formats[i], tc.samples[i])
				}
			}
			if got[len(got)-1].EndedBy != "duration" || sum.Streams[0].Error != "" {
				t.Errorf("last file ended by %q, stream error %q: want duration, none", got[len(got)-1].EndedBy, sum.Streams[0].Error)
			}
		})
	}
}

// TestRotateEveryWithoutARate: --rotate-every over frames of rate 0 (text
// input measuring its rate) rotates by device time, not at every frame.
func TestRotateEveryWithoutARate(t *testing.T) {
	url := scriptServer(t, func(t *testing.T, n int, c *sconn) {
		if n == 0 {
			c.hello(t, "e1", 0)
			for seq := range uint32(30) { // 2.9 s of device time
				c.ws.Write(c.ctx, websocket.MessageBinary, rateFrame(t, seq, 0, uint64(seq)*100_000))
			}
		}
	})
	dir := t.TempDir()
	r := startRecord(t, Options{URLs: []string{url}, Dir: dir, RotateEvery: time.Second})
	waitFor(t, "frame 29", func() bool {
		s := sidecars(t, dir)
		return len(s) > 0 && s[len(s)-1].LastSeq != nil && *s[len(s)-1].LastSeq == 29
	})
	r.stop(t)
	var got []uint64
	for _, s := range sidecars(t, dir) {
		got = append(got, s.Frames)
	}
	if fmt.Sprint(got) != "[10 10 10]" {
		t.Errorf("frames per file %v, want [10 10 10] (1 s of device time each)", got)
	}
}
