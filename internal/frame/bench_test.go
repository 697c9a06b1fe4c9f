package frame_test

import (
	"math/rand/v2"
	"testing"

	"github.com/wsbridge/wsbridge/internal/frame"
)

// benchStream is n serial-line frames of 256 i16 samples (a 16 kHz
// microphone at 62.5 frames/s), with realistic payload bytes.
func benchStream(n int) ([]byte, int) {
	r := rand.New(rand.NewPCG(1, 1))
	var out []byte
	for i := 0; i < n; i++ {
		f := frame.Frame{Seq: uint32(i), Rate: 16000, Channels: 1, SampleType: frame.I16, Count: 256}
		f.Data = make([]byte, f.PayloadSize())
		for j := 0; j < int(f.Count); j++ {
			f.PutInt(j, 0, int64(r.NormFloat64()*3000))
		}
		pkt, _ := frame.AppendFrame(nil, &f)
		out = frame.AppendSerial(out, pkt)
	}
	return out, n
}

// BenchmarkDecode measures the serial-line decoder fed 64 KiB reads, as the
// capture loop does. Reports MB/s and frames/s; allocs/op must stay 0.
func BenchmarkDecode(b *testing.B) {
	in, n := benchStream(1024)
	frames := 0
	d := frame.NewDecoder(func(p *frame.Packet) { frames++ })
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ { // each pass starts at seq 0 again: a restart, passed on
		for off := 0; off < len(in); off += 65536 {
			d.Write(in[off:min(len(in), off+65536)])
		}
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "frames/s")
	if frames != n*b.N {
		b.Fatalf("decoded %d frames, want %d", frames, n*b.N)
	}
}

// BenchmarkEncode measures building a packet and its serial-line encoding
// into reused buffers.
func BenchmarkEncode(b *testing.B) {
	f := frame.Frame{Rate: 16000, Channels: 1, SampleType: frame.I16, Count: 256}
	f.Data = make([]byte, f.PayloadSize())
	for j := range f.Data {
		f.Data[j] = byte(j*7 + 1)
	}
	var pkt, ser []byte
	b.SetBytes(int64(f.PayloadSize() + frame.Overhead + frame.DataHeaderSize))
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		f.Seq = uint32(i)
		pkt, _ = frame.AppendFrame(pkt[:0], &f)
		ser = frame.AppendSerial(ser[:0], pkt)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "frames/s")
}

// BenchmarkAppendCSV measures rendering a frame as csv lines, the sink's hot path.
func BenchmarkAppendCSV(b *testing.B) {
	f := frame.Frame{Rate: 16000, Channels: 2, SampleType: frame.I16, Count: 256}
	f.Data = make([]byte, f.PayloadSize())
	var out []byte
	opt := frame.TextOptions{}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		out = frame.Append(out[:0], frame.FormatCSV, &f, &opt)
	}
	b.SetBytes(int64(len(out)))
}

// BenchmarkAppendPlotter measures the Serial Plotter form, which labels
// every sample (ch0:v0,ch1:v1); allocs/op must stay 0.
func BenchmarkAppendPlotter(b *testing.B) {
	f := frame.Frame{Rate: 16000, Channels: 2, SampleType: frame.I16, Count: 256}
	f.Data = make([]byte, f.PayloadSize())
	var out []byte
	opt := frame.TextOptions{Names: []string{"mic"}} // ch1 has no name
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		out = frame.Append(out[:0], frame.FormatPlotter, &f, &opt)
	}
	b.SetBytes(int64(len(out)))
}

// BenchmarkTextDecode measures the text-line decoder on "1234,-567\n"
// lines, with the real clock; allocs/op must stay 0.
func BenchmarkTextDecode(b *testing.B) {
	var in []byte
	for i := 0; i < 4096; i++ {
		in = append(in, "1234,-567\n"...)
	}
	d := frame.NewTextDecoder(nil)
	d.Write(in) // buffers grow to their steady size here
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		d.Write(in)
	}
}
