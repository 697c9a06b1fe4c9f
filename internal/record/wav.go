package record

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"os"

	"github.com/wsbridge/wsbridge/internal/frame"
)

// WAV encodings, per sample type (docs/record.md):
//   - i16: 16-bit PCM, as received;
//   - i32: 32-bit PCM, as received (a sign-extended 24-bit microphone
//     sample plays 48 dB quieter than full scale: scale it in analysis);
//   - f32: 32-bit IEEE float (format 3), as received;
//   - u16: 16-bit PCM of the word minus 32768 (offset binary to two's
//     complement: exact, add 32768 back to get the ADC word).
const (
	EncodingPCM16       = "pcm_s16le"
	EncodingPCM32       = "pcm_s32le"
	EncodingFloat32     = "float32le"
	EncodingPCM16Offset = "pcm_s16le_u16_minus_32768"
)

// maxWAVData is the most data bytes a WAV holds (its sizes are u32); a
// file that would grow past it is rotated.
const maxWAVData = 1<<32 - 1 - 4096

// wavFormat is what the fmt chunk says.
type wavFormat struct {
	tag      uint16 // 1 PCM, 3 IEEE float
	channels int
	rate     uint32
	bits     int
	encoding string
}

func wavFormatOf(st frame.SampleType, channels int, rate uint32) wavFormat {
	w := wavFormat{tag: 1, channels: channels, rate: rate, bits: 8 * st.Size()}
	switch st {
	case frame.I16:
		w.encoding = EncodingPCM16
	case frame.I32:
		w.encoding = EncodingPCM32
	case frame.F32:
		w.tag, w.encoding = 3, EncodingFloat32
	case frame.U16:
		w.encoding = EncodingPCM16Offset
	}
	return w
}

// wavWriter writes a RIFF/WAVE file whose header always describes the data
// flushed so far: the sizes are rewritten after every flush (data first,
// then the header), so the file plays whenever it is read, even after a
// crash (then it lacks at most the last flush interval). Not safe for
// concurrent use.
type wavWriter struct {
	f       *os.File
	bw      *bufio.Writer
	fm      wavFormat
	dataOff int64 // offset of the data chunk's size field
	factOff int64 // offset of the fact chunk's sample count (float), or 0
	data    int64 // data bytes written (buffered included)
	scratch []byte
}

func newWAVWriter(f *os.File, fm wavFormat) (*wavWriter, error) {
	w := &wavWriter{f: f, bw: bufio.NewWriterSize(f, 64<<10), fm: fm}
	hdr := w.header()
	if _, err := f.Write(hdr); err != nil {
		return nil, err
	}
	return w, nil
}

// header is the RIFF header for an empty data chunk.
func (w *wavWriter) header() []byte {
	le := binary.LittleEndian
	block := w.fm.channels * w.fm.bits / 8
	b := []byte("RIFF\x00\x00\x00\x00WAVE")
	fmtLen := 16
	if w.fm.tag != 1 {
		fmtLen = 18 // cbSize, required for non-PCM
	}
	b = append(b, "fmt "...)
	b = le.AppendUint32(b, uint32(fmtLen))
	b = le.AppendUint16(b, w.fm.tag)
	b = le.AppendUint16(b, uint16(w.fm.channels))
	b = le.AppendUint32(b, w.fm.rate)
	b = le.AppendUint32(b, w.fm.rate*uint32(block))
	b = le.AppendUint16(b, uint16(block))
	b = le.AppendUint16(b, uint16(w.fm.bits))
	if fmtLen == 18 {
		b = le.AppendUint16(b, 0)
		b = append(b, "fact"...)
		b = le.AppendUint32(b, 4)
		w.factOff = int64(len(b))
		b = le.AppendUint32(b, 0)
	}
	b = append(b, "data"...)
	w.dataOff = int64(len(b))
	return le.AppendUint32(b, 0)
}

// blockSize is the bytes of one sample instant.
func (w *wavWriter) blockSize() int { return w.fm.channels * w.fm.bits / 8 }

// size is the file's size once flushed.
func (w *wavWriter) size() int64 { return w.dataOff + 4 + w.data }

// room is how many more sample instants fit in a WAV.
func (w *wavWriter) room() int64 { return (maxWAVData - w.data) / int64(w.blockSize()) }

// writeFrame appends f's samples; f must match the format.
func (w *wavWriter) writeFrame(f *frame.Frame) error {
	p := f.Data[:f.PayloadSize()]
	if f.SampleType == frame.U16 {
		w.scratch = append(w.scratch[:0], p...)
		for i := 1; i < len(w.scratch); i += 2 {
			w.scratch[i] ^= 0x80 // v - 32768, little-endian: flip the top bit
		}
		p = w.scratch
	}
	n, err := w.bw.Write(p)
	w.data += int64(n)
	return err
}

// writeSilence appends n sample instants of zeros (digital silence; for
// u16 the word 32768, which encodes as 0).
func (w *wavWriter) writeSilence(n int64) error {
	zero := make([]byte, 4096)
	for left := n * int64(w.blockSize()); left > 0; {
		k := min(left, int64(len(zero)))
		m, err := w.bw.Write(zero[:k])
		w.data += int64(m)
		if err != nil {
			return err
		}
		left -= k
	}
	return nil
}

// flush writes buffered samples, then the sizes that describe them.
func (w *wavWriter) flush() error {
	if err := w.bw.Flush(); err != nil {
		return err
	}
	le := binary.LittleEndian
	var b [4]byte
	le.PutUint32(b[:], uint32(w.dataOff+4+w.data-8))
	if _, err := w.f.WriteAt(b[:], 4); err != nil {
		return err
	}
	if w.factOff > 0 {
		le.PutUint32(b[:], uint32(w.data/int64(w.blockSize())))
		if _, err := w.f.WriteAt(b[:], w.factOff); err != nil {
			return err
		}
	}
	le.PutUint32(b[:], uint32(w.data))
	if _, err := w.f.WriteAt(b[:], w.dataOff); err != nil {
		return fmt.Errorf("failed to write the wav header: %w", err)
	}
	return nil
}
