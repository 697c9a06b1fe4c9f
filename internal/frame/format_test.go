package frame_test

import (
	"encoding/json"
	"testing"

	"github.com/wsbridge/wsbridge/internal/frame"
)

func twoChannelFrame() *frame.Frame {
	f := &frame.Frame{Seq: 9, TimeUS: 1000, Rate: 1000, Channels: 2, SampleType: frame.I16, Count: 2}
	f.Data = make([]byte, f.PayloadSize())
	f.PutInt(0, 0, 1)
	f.PutInt(0, 1, -2)
	f.PutInt(1, 0, 3)
	f.PutInt(1, 1, -4)
	return f
}

func TestFormats(t *testing.T) {
	f := twoChannelFrame()
	cases := []struct {
		fm   frame.Format
		opt  frame.TextOptions
		want string
	}{
		{frame.FormatCSV, frame.TextOptions{}, "1,-2\n3,-4\n"},
		{frame.FormatCSV, frame.TextOptions{CRLF: true, Timestamps: true}, "1000,1,-2\r\n2000,3,-4\r\n"},
		{frame.FormatPlain, frame.TextOptions{}, "1 -2\n3 -4\n"},
		{frame.FormatPlotter, frame.TextOptions{Names: []string{"mic"}}, "mic:1,ch1:-2\nmic:3,ch1:-4\n"},
		{frame.FormatJSON, frame.TextOptions{},
			`{"type":"frame","seq":9,"rate":1000,"channels":2,"sample_type":"i16","t_dev_us":1000,"samples":[[1,3],[-2,-4]]}`},
	}
	for _, c := range cases {
		if got := string(frame.Append(nil, c.fm, f, &c.opt)); got != c.want {
			t.Errorf("%s %+v:\n got %q\nwant %q", c.fm, c.opt, got, c.want)
		}
	}
	if got := string(frame.AppendJSONEpoch(nil, f, "1f0c9a2e")); got != `{"type":"frame","epoch":"1f0c9a2e","seq":9,"rate":1000,"channels":2,"sample_type":"i16","t_dev_us":1000,"samples":[[1,3],[-2,-4]]}` {
		t.Errorf("json with epoch %q", got)
	}
	if got := string(frame.AppendJSONEpoch(nil, f, "a\"b\\c\n")); !json.Valid([]byte(got)) {
		t.Errorf("json with a hostile epoch is not valid JSON: %q", got)
	}
	if got := string(frame.AppendCSVHeader(nil, 2, &frame.TextOptions{Timestamps: true, Names: []string{"mic", "vbat"}})); got != "t_us,mic,vbat\n" {
		t.Errorf("header %q", got)
	}
}

func TestJSONIsValidForFloats(t *testing.T) {
	f := &frame.Frame{Channels: 1, SampleType: frame.F32, Count: 3, Rate: 10}
	f.Data = make([]byte, f.PayloadSize())
	f.PutFloat(0, 0, 0.1)
	f.PutFloat(1, 0, -1e30)
	f.PutFloat(2, 0, 3)
	var v struct{ Samples [][]float64 }
	if err := json.Unmarshal(frame.AppendJSON(nil, f), &v); err != nil {
		t.Fatal(err)
	}
	if v.Samples[0][0] != 0.1 || v.Samples[0][1] != -1e30 || v.Samples[0][2] != 3 {
		t.Fatalf("samples %v", v.Samples)
	}
}
