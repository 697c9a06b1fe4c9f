package record

import (
	"bufio"
	"math"
	"os"
	"strconv"

	"github.com/wsbridge/wsbridge/internal/frame"
)

// csvWriter writes one row per sample instant: the device time in µs
// (t_us), then one column per channel, named after the device's channels.
// A filled gap (--on-gap zero) is rows with the time and empty values (NA
// in R, NaN in pandas): a csv has no silence, and 0 is a valid reading.
// Not safe for concurrent use.
type csvWriter struct {
	bw       *bufio.Writer
	channels int
	written  int64
	opt      frame.TextOptions
	buf      []byte
}

func newCSVWriter(f *os.File, channels int, names []string) (*csvWriter, error) {
	w := &csvWriter{bw: bufio.NewWriterSize(f, 64<<10), channels: channels,
		opt: frame.TextOptions{Timestamps: true, Names: names}}
	w.buf = frame.AppendCSVHeader(w.buf[:0], channels, &w.opt)
	return w, w.write(w.buf)
}

func (w *csvWriter) write(b []byte) error {
	n, err := w.bw.Write(b)
	w.written += int64(n)
	return err
}

func (w *csvWriter) writeFrame(f *frame.Frame) error {
	w.buf = frame.Append(w.buf[:0], frame.FormatCSV, f, &w.opt)
	return w.write(w.buf)
}

// writeFill writes n rows of empty values whose times continue from t0 at
// rate.
func (w *csvWriter) writeFill(n int64, t0 uint64, rate uint32) error {
	for i := int64(0); i < n; i++ {
		w.buf = strconv.AppendUint(w.buf[:0], t0+uint64(i)*1_000_000/uint64(max(rate, 1)), 10)
		for range w.channels {
			w.buf = append(w.buf, ',')
		}
		w.buf = append(w.buf, '\n')
		if err := w.write(w.buf); err != nil {
			return err
		}
	}
	return nil
}

func (w *csvWriter) flush() error { return w.bw.Flush() }
func (w *csvWriter) size() int64  { return w.written }
func (w *csvWriter) room() int64  { return math.MaxInt64 }
