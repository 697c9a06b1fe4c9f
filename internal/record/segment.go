package record

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/wsbridge/wsbridge/internal/frame"
)

// shape is what a file's format depends on: a change starts a new file.
type shape struct {
	rate       uint32
	channels   uint8
	sampleType frame.SampleType
}

// fileWriter is a WAV or CSV writer.
type fileWriter interface {
	writeFrame(f *frame.Frame) error
	flush() error
	size() int64
	room() int64 // sample instants that still fit
}

// segment is one recording being written and its sidecar. Owned by the
// stream's writer goroutine.
type segment struct {
	path, sidecar string
	f             *os.File
	w             fileWriter
	wav           *wavWriter // or nil
	csv           *csvWriter // or nil
	shape         shape
	sc            Sidecar
	dirty         bool
}

// createFile creates DIR/BASE.EXT, or BASE-2.EXT, ... if it exists.
func createFile(dir, base, ext string) (*os.File, error) {
	for i := 1; i < 1000; i++ {
		name := base
		if i > 1 {
			name = fmt.Sprintf("%s-%d", base, i)
		}
		f, err := os.OpenFile(filepath.Join(dir, name+ext), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		return f, err
	}
	return nil, fmt.Errorf("failed to create a file named %s in %s: 999 exist", base+ext, dir)
}

// openSegment creates the file for frames of shape sh. sc is the sidecar
// so far (stream, device, labels, started_by); format is wav or csv.
func openSegment(dir, base, format string, sh shape, names []string, sc Sidecar) (*segment, error) {
	f, err := createFile(dir, base, "."+format)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrOutput, err)
	}
	s := &segment{path: f.Name(), sidecar: strings.TrimSuffix(f.Name(), "."+format) + ".json", f: f, shape: sh, sc: sc}
	s.sc.File, s.sc.Format = filepath.Base(f.Name()), format
	s.sc.Rate, s.sc.Channels, s.sc.SampleType = sh.rate, int(sh.channels), sh.sampleType.String()
	if format == FormatWAV {
		fm := wavFormatOf(sh.sampleType, int(sh.channels), sh.rate)
		s.wav, err = newWAVWriter(f, fm)
		s.w, s.sc.Encoding = s.wav, fm.encoding
	} else {
		s.csv, err = newCSVWriter(f, int(sh.channels), names)
		s.w, s.sc.Encoding = s.csv, "text"
	}
	if err == nil {
		err = s.flush(time.Now())
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("%w: failed to write %s: %w", ErrOutput, f.Name(), err)
	}
	return s, nil
}

// writeFrame appends f's samples and accounts for them.
func (s *segment) writeFrame(f *frame.Frame) error {
	if s.sc.FirstSeq == nil {
		first := f.Seq
		s.sc.FirstSeq, s.sc.FirstTimeU = &first, f.TimeUS
	}
	last := f.Seq
	s.sc.LastSeq = &last
	s.sc.LastTimeU = frame.SampleTime(f, int(f.Count)-1)
	s.sc.Frames++
	s.sc.Samples += uint64(f.Count)
	s.dirty = true
	return s.w.writeFrame(f)
}

// fill writes n sample instants of silence (wav) or empty rows (csv)
// whose device times start at t0.
func (s *segment) fill(n int64, t0 uint64) error {
	s.sc.Samples += uint64(n)
	s.dirty = true
	if s.wav != nil {
		return s.wav.writeSilence(n)
	}
	return s.csv.writeFill(n, t0, s.shape.rate)
}

// spans reports whether the file holds d of stream before frame f: its
// sample instants at its rate, or, for frames without a rate (text input
// measuring it), the device time from its first frame to f.
func (s *segment) spans(d time.Duration, f *frame.Frame) bool {
	if s.shape.rate == 0 {
		return s.sc.FirstSeq != nil && f.TimeUS-s.sc.FirstTimeU >= uint64(d.Microseconds())
	}
	return float64(s.sc.Samples) >= d.Seconds()*float64(s.shape.rate)
}

func (s *segment) addGap(g GapRecord) {
	s.sc.Gaps = append(s.sc.Gaps, g)
	s.dirty = true
}

// flush writes buffered data, the WAV header that describes it, and the
// sidecar.
func (s *segment) flush(now time.Time) error {
	if err := s.w.flush(); err != nil {
		return err
	}
	return s.writeSidecar(now)
}

func (s *segment) writeSidecar(now time.Time) error {
	s.sc.Bytes = s.w.size()
	if s.sc.Rate > 0 {
		s.sc.DurationS = float64(s.sc.Samples) / float64(s.sc.Rate)
	}
	s.sc.EndedAt = now.UTC().Format(timeFormat)
	s.dirty = false
	return writeSidecar(s.sidecar, &s.sc)
}

// close flushes, syncs and closes the file, then writes the final sidecar
// (complete: true).
func (s *segment) close(endedBy string, now time.Time) error {
	err := s.w.flush()
	if err == nil {
		err = s.f.Sync()
	}
	if cerr := s.f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("%w: failed to finish %s: %w", ErrOutput, s.path, err)
	}
	s.sc.EndedBy, s.sc.Complete = endedBy, true
	return s.writeSidecar(now)
}
