package adcsim

import (
	"encoding/binary"
	"fmt"
	"os"

	"github.com/wsbridge/wsbridge/internal/frame"
)

// maxWAVSize bounds what loadWAV reads into memory.
const maxWAVSize = 512 << 20

// wavSource plays a 16-bit PCM file, looped. Output channel c is the file's
// channel c modulo the file's channel count. Samples are converted exactly:
// i16 as is, i32 shifted to 24 bits, u16 to a 12-bit word, f32 as v/32768.
type wavSource struct {
	rate     uint32
	channels int
	samples  []int16 // interleaved
}

func loadWAV(path string) (*wavSource, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("signal: failed to open wav file: %w", err)
	}
	if fi.Size() > maxWAVSize {
		return nil, fmt.Errorf("signal: wav file %s is %d bytes, more than the %d this simulator loads", path, fi.Size(), maxWAVSize)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("signal: failed to read wav file: %w", err)
	}
	w, err := parseWAV(b)
	if err != nil {
		return nil, fmt.Errorf("signal: %s: %w", path, err)
	}
	return w, nil
}

// parseWAV reads a RIFF/WAVE file of 16-bit PCM.
func parseWAV(b []byte) (*wavSource, error) {
	if len(b) < 12 || string(b[:4]) != "RIFF" || string(b[8:12]) != "WAVE" {
		return nil, fmt.Errorf("not a RIFF/WAVE file")
	}
	var w wavSource
	var haveFmt bool
	for p := b[12:]; len(p) >= 8; {
		id, n := string(p[:4]), int(binary.LittleEndian.Uint32(p[4:]))
		if n > len(p)-8 {
			n = len(p) - 8 // a truncated last chunk: take what is there
		}
		body := p[8 : 8+n]
		switch id {
		case "fmt ":
			if err := w.parseFmt(body); err != nil {
				return nil, err
			}
			haveFmt = true
		case "data":
			if !haveFmt {
				return nil, fmt.Errorf("data chunk before fmt chunk")
			}
			w.samples = make([]int16, n/2)
			for i := range w.samples {
				w.samples[i] = int16(binary.LittleEndian.Uint16(body[2*i:]))
			}
		}
		p = p[8+n:]
		if n%2 == 1 && len(p) > 0 {
			p = p[1:] // chunks are padded to an even length
		}
	}
	if !haveFmt || len(w.samples) < w.channels {
		return nil, fmt.Errorf("no fmt chunk or no samples")
	}
	w.samples = w.samples[:len(w.samples)/w.channels*w.channels]
	return &w, nil
}

func (w *wavSource) parseFmt(b []byte) error {
	if len(b) < 16 {
		return fmt.Errorf("fmt chunk of %d bytes", len(b))
	}
	format := binary.LittleEndian.Uint16(b)
	w.channels = int(binary.LittleEndian.Uint16(b[2:]))
	w.rate = binary.LittleEndian.Uint32(b[4:])
	bits := binary.LittleEndian.Uint16(b[14:])
	if (format != 1 && format != 0xFFFE) || bits != 16 {
		return fmt.Errorf("want 16-bit PCM, got format %d with %d bits per sample", format, bits)
	}
	if w.channels < 1 || w.rate < 1 || w.rate > MaxRate {
		return fmt.Errorf("bad fmt chunk: %d channels at %d Hz", w.channels, w.rate)
	}
	return nil
}

func (w *wavSource) fill(f *frame.Frame, i uint64) {
	frames := uint64(len(w.samples) / w.channels)
	nch := int(f.Channels)
	for j := 0; j < int(f.Count); j++ {
		row := int((i+uint64(j))%frames) * w.channels
		for c := 0; c < nch; c++ {
			v := int64(w.samples[row+c%w.channels])
			switch f.SampleType {
			case frame.U16:
				f.PutInt(j, c, 2048+v>>4)
			case frame.I32:
				f.PutInt(j, c, v<<8)
			case frame.F32:
				f.PutFloat(j, c, float64(v)/32768)
			default:
				f.PutInt(j, c, v)
			}
		}
	}
}
