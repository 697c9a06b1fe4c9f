package frame_test

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/wsbridge/wsbridge/internal/frame"
)

type textResult struct {
	values  [][]float64 // per frame, interleaved
	seqs    []uint32
	types   []frame.SampleType
	infos   []frame.DeviceInfo
	logs    []string
	replies []string
}

func decodeText(t *testing.T, in string, frameSamples int, splits int) (textResult, frame.Stats) {
	t.Helper()
	var r textResult
	clock := time.Unix(0, 0)
	d := frame.NewTextDecoder(func(p *frame.Packet) {
		switch p.Type {
		case frame.TypeData:
			var v []float64
			for i := 0; i < int(p.Frame.Count); i++ {
				for ch := 0; ch < int(p.Frame.Channels); ch++ {
					v = append(v, p.Frame.Float(i, ch))
				}
			}
			r.values = append(r.values, v)
			r.seqs = append(r.seqs, p.Frame.Seq)
			r.types = append(r.types, p.Frame.SampleType)
		case frame.TypeInfo:
			r.infos = append(r.infos, p.Clone().Info)
		case frame.TypeLog:
			r.logs = append(r.logs, string(p.Text))
		case frame.TypeReply:
			r.replies = append(r.replies, map[uint8]string{0: "ok ", 1: "err "}[p.Status]+string(p.Text))
		}
	})
	d.FrameSamples = frameSamples
	d.Now = func() time.Time { clock = clock.Add(time.Millisecond); return clock }
	step := max(1, len(in)/splits)
	for i := 0; i < len(in); i += step {
		d.Write([]byte(in[i:min(len(in), i+step)]))
	}
	d.Flush()
	return r, d.Stats()
}

func TestTextForms(t *testing.T) {
	in := "1\n2\r\n3\n4\n" + // single values, LF and CRLF
		"5,6\n7 8\n9\t10\n" + // two channels, three separators
		"a:11,b:12\na:13,b:14\n" // plotter form with names
	r, st := decodeText(t, in, 2, 7)
	want := [][]float64{{1, 2}, {3, 4}, {5, 6, 7, 8}, {9, 10}, {11, 12, 13, 14}}
	if !reflect.DeepEqual(r.values, want) {
		t.Fatalf("values %v, want %v", r.values, want)
	}
	if !reflect.DeepEqual(r.seqs, []uint32{0, 1, 2, 3, 4}) {
		t.Fatalf("seqs %v", r.seqs)
	}
	if len(r.infos) != 3 || r.infos[2].ChannelInfo[0].Name != "a" || r.infos[2].ChannelInfo[1].Name != "b" ||
		r.infos[1].ChannelInfo[1].Name != "ch1" {
		t.Fatalf("infos %+v", r.infos)
	}
	if st.Frames != 5 || st.NoiseBytes != 0 {
		t.Fatalf("stats %+v", st)
	}
}

func TestTextFloatsAndDeviceLines(t *testing.T) {
	in := "1\n2\n# ok rate 8000\n# err unknown command\n# booting\nhello world\n2.5\n\x01\x02\xff\n3\n"
	r, st := decodeText(t, in, 64, 3)
	want := [][]float64{{1, 2}, {2.5, 3}}
	if !reflect.DeepEqual(r.values, want) {
		t.Fatalf("values %v, want %v", r.values, want)
	}
	if !reflect.DeepEqual(r.types, []frame.SampleType{frame.I32, frame.F32}) {
		t.Fatalf("types %v", r.types)
	}
	if !reflect.DeepEqual(r.replies, []string{"ok rate 8000", "err unknown command"}) {
		t.Fatalf("replies %q", r.replies)
	}
	if !reflect.DeepEqual(r.logs, []string{"booting", "hello world"}) {
		t.Fatalf("logs %q", r.logs)
	}
	if st.NoiseBytes != 3 {
		t.Fatalf("noise %d, want 3", st.NoiseBytes)
	}
}

func TestTextLongLineSkipped(t *testing.T) {
	in := "1\n" + strings.Repeat("9", frame.MaxLineSize+10) + "\n2\n"
	r, st := decodeText(t, in, 64, 5)
	if !reflect.DeepEqual(r.values, [][]float64{{1, 2}}) {
		t.Fatalf("values %v", r.values)
	}
	if st.Oversize != 1 || st.NoiseBytes != frame.MaxLineSize+10 {
		t.Fatalf("stats %+v", st)
	}
}

// A frame's TimeUS is when its first line arrived, counted from the first
// line; a line that changes the shape or brings the first non-integer
// starts a frame at its own arrival. The rate is estimated from arrivals.
func TestTextTimestamps(t *testing.T) {
	type got struct {
		seq    uint32
		timeUS uint64
		rate   uint32
	}
	var frames []got
	d := frame.NewTextDecoder(func(p *frame.Packet) {
		if p.Type == frame.TypeData {
			frames = append(frames, got{p.Frame.Seq, p.Frame.TimeUS, p.Frame.Rate})
		}
	})
	d.FrameSamples = 2
	clock := time.Unix(100, 0)
	d.Now = func() time.Time { return clock }
	for _, l := range []struct {
		ms   int
		line string
	}{
		{0, "1"}, {10, "2"}, // frame 0 at 0 ms
		{20, "3"},     // frame 1 at 20 ms, cut short by the shape change
		{30, "4,5"},   // frame 2 at 30 ms
		{40, "6,7"},   //
		{50, "8,9"},   // frame 3 at 50 ms, cut short by the float
		{60, "1.5,2"}, // frame 4 at 60 ms
	} {
		clock = time.Unix(100, 0).Add(time.Duration(l.ms) * time.Millisecond)
		d.Write([]byte(l.line + "\n"))
	}
	d.Flush()
	want := []got{{0, 0, 100}, {1, 20000, 100}, {2, 30000, 100}, {3, 50000, 100}, {4, 60000, 100}}
	if !reflect.DeepEqual(frames, want) {
		t.Fatalf("frames %+v\nwant   %+v", frames, want)
	}
}
