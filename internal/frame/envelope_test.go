package frame_test

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"slices"
	"testing"

	"github.com/wsbridge/wsbridge/internal/frame"
	"github.com/wsbridge/wsbridge/internal/frame/frametest"
)

// sameValue compares two values, NaN equal to NaN.
func sameValue(a, b float64) bool { return a == b || a != a && b != b }

func checkEnvelope(t *testing.T, got, want *frame.Envelope) {
	t.Helper()
	g, w := *got, *want
	g.Data, w.Data = nil, nil
	if !reflect.DeepEqual(g, w) {
		t.Fatalf("envelope header\n got %+v\nwant %+v", g, w)
	}
	if !bytes.Equal(got.Data, want.Data) {
		t.Fatalf("envelope values\n got %x\nwant %x", got.Data, want.Data)
	}
}

func TestEnvelopeGolden(t *testing.T) {
	for _, c := range frametest.Envelopes {
		t.Run(c.Name, func(t *testing.T) {
			want := c.Want()
			b, err := frame.AppendEnvelope(nil, &want)
			if err != nil {
				t.Fatal(err)
			}
			if h := hex.EncodeToString(b); h != c.Hex {
				t.Fatalf("encoded\n got %s\nwant %s", h, c.Hex)
			}
			var e frame.Envelope
			if err := frame.ParseEnvelope(&e, c.Bytes()); err != nil {
				t.Fatal(err)
			}
			checkEnvelope(t, &e, &want)
			for k := 0; k < int(e.Points); k++ {
				for ch := 0; ch < int(e.Channels); ch++ {
					lo, hi := e.MinMax(k, ch)
					i := (k*int(e.Channels) + ch) * 2
					if !sameValue(lo, c.Values[i]) || !sameValue(hi, c.Values[i+1]) {
						t.Fatalf("point %d ch %d = %v..%v, want %v..%v", k, ch, lo, hi, c.Values[i], c.Values[i+1])
					}
				}
			}
			// A device packet decoder refuses it: devices never send one.
			var p frame.Packet
			if err := frame.Parse(&p, c.Bytes()); !errors.Is(err, frame.ErrType) {
				t.Fatalf("Parse = %v, want %v", err, frame.ErrType)
			}
		})
	}
}

func TestEnvelopeFailing(t *testing.T) {
	for _, c := range frametest.EnvelopeFailing {
		t.Run(c.Name, func(t *testing.T) {
			var e frame.Envelope
			err := frame.ParseEnvelope(&e, c.Bytes())
			if !errors.Is(err, c.Err) {
				t.Fatalf("ParseEnvelope = %v, want %v", err, c.Err)
			}
			if c.Kind() == "" {
				t.Fatalf("%v has no kind for golden.json", c.Err)
			}
		})
	}
}

// counterFrames returns frames of the simulator's counter signal: sample
// instant i (from start) of channel c is start+i+c in the sample type's
// range, in frames of the given counts from seq 100.
func counterFrames(t *testing.T, st frame.SampleType, chans int, start int64, counts []int) []*frame.Frame {
	t.Helper()
	var out []*frame.Frame
	idx := start
	for k, n := range counts {
		f := &frame.Frame{Seq: uint32(100 + k), TimeUS: uint64(idx) * 125, Rate: 8000, Channels: uint8(chans), SampleType: st, Count: uint16(n)}
		f.Data = make([]byte, f.PayloadSize())
		for i := 0; i < n; i++ {
			for c := 0; c < chans; c++ {
				v := idx + int64(i+c)
				if st == frame.F32 {
					v %= 1 << 24
				}
				f.PutInt(i, c, v)
			}
		}
		idx += int64(n)
		out = append(out, f)
	}
	return out
}

// TestEnvelopeOfCounter computes envelopes of the counter signal for every
// sample type, several channel counts, grid widths, phases and frame
// sizes, and checks each point against a direct scan of the samples.
func TestEnvelopeOfCounter(t *testing.T) {
	types := []frame.SampleType{frame.U16, frame.I16, frame.I32, frame.F32}
	for _, st := range types {
		for _, chans := range []int{1, 3} {
			for _, n := range []uint32{4, 8, 64, 1024} {
				for _, phase := range []uint32{0, 1, n / 2, n - 1} {
					counts := []int{1, 3, 7, 160, 0, 33, 500}
					name := fmt.Sprintf("%s/ch%d/n%d/phase%d", st, chans, n, phase)
					t.Run(name, func(t *testing.T) {
						checkEnvelopeOf(t, counterFrames(t, st, chans, 32700, counts), n, phase)
					})
				}
			}
		}
	}
}

func checkEnvelopeOf(t *testing.T, frames []*frame.Frame, n, phase uint32) {
	t.Helper()
	b, err := frame.AppendEnvelopeOf(nil, n, phase, slices.Values(frames))
	if err != nil {
		t.Fatal(err)
	}
	var e frame.Envelope
	if err := frame.ParseEnvelope(&e, b); err != nil {
		t.Fatal(err)
	}
	// The samples, in order, as one run.
	nch := int(frames[0].Channels)
	var run [][]float64
	for _, f := range frames {
		for i := 0; i < int(f.Count); i++ {
			row := make([]float64, nch)
			for c := range row {
				row[c] = f.Float(i, c)
			}
			run = append(run, row)
		}
	}
	last := frames[len(frames)-1]
	if e.Seq != frames[0].Seq || e.LastSeq != last.Seq || int(e.Samples) != len(run) || e.N != n || e.Phase != phase ||
		e.TimeUS != frames[0].TimeUS || e.Rate != frames[0].Rate {
		t.Fatalf("header %+v", e)
	}
	if int(e.Points) != frame.EnvelopePoints(phase, uint32(len(run)), n) {
		t.Fatalf("%d points", e.Points)
	}
	covered := 0
	for k := 0; k < int(e.Points); k++ {
		from, to := e.Span(k)
		if from != covered || to <= from || to-from > int(n) {
			t.Fatalf("point %d spans %d..%d after %d covered", k, from, to, covered)
		}
		if k > 0 && k < int(e.Points)-1 && to-from != int(n) {
			t.Fatalf("middle point %d spans %d instants, want %d", k, to-from, n)
		}
		covered = to
		for c := 0; c < nch; c++ {
			lo, hi := math.Inf(1), math.Inf(-1)
			for _, row := range run[from:to] {
				lo, hi = min(lo, row[c]), max(hi, row[c])
			}
			if glo, ghi := e.MinMax(k, c); glo != lo || ghi != hi {
				t.Fatalf("point %d (%d..%d) ch %d = %v..%v, want %v..%v", k, from, to, c, glo, ghi, lo, hi)
			}
		}
	}
	if covered != len(run) {
		t.Fatalf("points cover %d of %d instants", covered, len(run))
	}
	if first, _ := e.Span(0); e.Points > 0 && first != 0 {
		t.Fatal("first point does not start the run")
	}
	if e.Points > 0 {
		if from, to := e.Span(0); to-from != min(int(n-phase), len(run)) || from != 0 {
			t.Fatalf("first point spans %d..%d with phase %d", from, to, phase)
		}
	}
}

// A point takes the min and max of the f32 samples that are numbers; one
// that holds only NaN is NaN (null in JSON).
func TestEnvelopeNaN(t *testing.T) {
	f := &frame.Frame{Seq: 1, Rate: 100, Channels: 1, SampleType: frame.F32, Count: 8}
	f.Data = make([]byte, f.PayloadSize())
	for i, v := range []float64{math.NaN(), 2, -3, math.NaN(), math.NaN(), math.NaN(), math.NaN(), math.NaN()} {
		f.PutFloat(i, 0, v)
	}
	b, err := frame.AppendEnvelopeOf(nil, 4, 0, slices.Values([]*frame.Frame{f}))
	if err != nil {
		t.Fatal(err)
	}
	var e frame.Envelope
	if err := frame.ParseEnvelope(&e, b); err != nil {
		t.Fatal(err)
	}
	if lo, hi := e.MinMax(0, 0); lo != -3 || hi != 2 {
		t.Fatalf("point 0 = %v..%v, want -3..2", lo, hi)
	}
	if lo, hi := e.MinMax(1, 0); !math.IsNaN(lo) || !math.IsNaN(hi) {
		t.Fatalf("point 1 = %v..%v, want NaN", lo, hi)
	}
	js := frame.AppendEnvelopeJSON(nil, &e, "")
	if want := `"min":[[-3,null]],"max":[[2,null]]}`; !bytes.HasSuffix(js, []byte(want)) {
		t.Fatalf("JSON %s, want it to end %s", js, want)
	}
}

// Frames without samples are covered (their seqs) with no points.
func TestEnvelopeOfEmptyFrames(t *testing.T) {
	frames := counterFrames(t, frame.I16, 1, 0, []int{0, 0, 0})
	b, err := frame.AppendEnvelopeOf(nil, 64, 5, slices.Values(frames))
	if err != nil {
		t.Fatal(err)
	}
	var e frame.Envelope
	if err := frame.ParseEnvelope(&e, b); err != nil {
		t.Fatal(err)
	}
	if e.Seq != 100 || e.LastSeq != 102 || e.Frames() != 3 || e.Samples != 0 || e.Points != 0 || len(e.Data) != 0 {
		t.Fatalf("envelope %+v", e)
	}
}

func TestEnvelopeOfRefuses(t *testing.T) {
	mixed := append(counterFrames(t, frame.I16, 1, 0, []int{4}), counterFrames(t, frame.I16, 2, 0, []int{4})...)
	big := counterFrames(t, frame.I32, 255, 0, []int{64, 64, 64, 64, 64})
	for _, c := range []struct {
		name     string
		frames   []*frame.Frame
		n, phase uint32
		err      error
	}{
		{"no frames", nil, 4, 0, frame.ErrShort},
		{"channel count changes", mixed, 4, 0, frame.ErrField},
		{"n not a power of two", mixed[:1], 12, 0, frame.ErrField},
		{"phase not below n", mixed[:1], 4, 4, frame.ErrField},
		{"over the packet size", big, 4, 0, frame.ErrTooLarge},
	} {
		if _, err := frame.AppendEnvelopeOf(nil, c.n, c.phase, slices.Values(c.frames)); !errors.Is(err, c.err) {
			t.Errorf("%s: %v, want %v", c.name, err, c.err)
		}
	}
}

// The JSON form carries the same fields and values as the packet.
func TestEnvelopeJSON(t *testing.T) {
	c := frametest.Envelopes[1]
	want := c.Want()
	var got struct {
		Type       string    `json:"type"`
		Epoch      string    `json:"epoch"`
		Seq        uint32    `json:"seq"`
		LastSeq    uint32    `json:"last_seq"`
		Rate       uint32    `json:"rate"`
		Channels   int       `json:"channels"`
		SampleType string    `json:"sample_type"`
		TimeUS     uint64    `json:"t_dev_us"`
		N          uint32    `json:"n"`
		Phase      uint32    `json:"phase"`
		Samples    uint32    `json:"samples"`
		Min        [][]int64 `json:"min"`
		Max        [][]int64 `json:"max"`
	}
	js := frame.AppendEnvelopeJSON(nil, &want, "1f0c9a2e")
	if err := json.Unmarshal(js, &got); err != nil {
		t.Fatalf("%v: %s", err, js)
	}
	if got.Type != "envelope" || got.Epoch != "1f0c9a2e" || got.Seq != 7 || got.LastSeq != 8 || got.Rate != 16000 ||
		got.Channels != 2 || got.SampleType != "u16" || got.TimeUS != 437500 || got.N != 4 || got.Phase != 2 || got.Samples != 7 {
		t.Fatalf("JSON %s", js)
	}
	wantMin, wantMax := [][]int64{{100, 102, 106}, {200, 202, 206}}, [][]int64{{101, 105, 106}, {201, 205, 206}}
	if fmt.Sprint(got.Min) != fmt.Sprint(wantMin) || fmt.Sprint(got.Max) != fmt.Sprint(wantMax) {
		t.Fatalf("min %v max %v, want %v %v", got.Min, got.Max, wantMin, wantMax)
	}
}

// BenchmarkEnvelopeOf computes one batch's envelope: 33 ms of a 48 kHz
// i16 stream in 480-sample frames, at 64 samples per point.
func BenchmarkEnvelopeOf(b *testing.B) {
	frames := make([]*frame.Frame, 4)
	for k := range frames {
		f := &frame.Frame{Seq: uint32(k), Rate: 48000, Channels: 1, SampleType: frame.I16, Count: 480}
		f.Data = make([]byte, f.PayloadSize())
		frames[k] = f
	}
	b.ReportAllocs()
	b.SetBytes(4 * 480 * 2)
	var dst []byte
	for b.Loop() {
		var err error
		if dst, err = frame.AppendEnvelopeOf(dst[:0], 64, 0, slices.Values(frames)); err != nil {
			b.Fatal(err)
		}
	}
}
