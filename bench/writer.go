//go:build linux

package main

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/wsbridge/wsbridge/internal/frame"
)

// clock is the one clock of a run: the writer stamps each frame's t_dev_us
// with clock.us() just before the write that carries it, and consumers (in
// this same process) compare their receive time against it. Monotonic.
type clock struct{ base time.Time }

func newClock() clock { return clock{base: time.Now()} }

func (c clock) us() uint64 { return uint64(time.Since(c.base) / time.Microsecond) }

// stream generates the simulator's counter signal (internal/adcsim):
// sample at running index i on channel c is int16(i+c), i16, one channel
// here, in frames of frameSamples sample instants, seq from 0. Only
// t_dev_us differs from adcsim: it carries the write time on the bench
// clock so that latency is measured against one clock.
type stream struct {
	rate         uint32
	frameSamples int
	seq          uint32
	payload      []byte
	pkt          []byte
}

func newStream(rate uint32, frameSamples int) *stream {
	return &stream{rate: rate, frameSamples: frameSamples, payload: make([]byte, 2*frameSamples)}
}

// info is the device info packet the simulator sends at start, on the line.
func (s *stream) info(dst []byte) []byte {
	in := frame.DeviceInfo{Rate: s.rate, Channels: 1, SampleType: frame.I16,
		FrameSamples: uint16(s.frameSamples), Name: "bench-counter", Firmware: "bench",
		ChannelInfo: []frame.Channel{{Name: "counter", Unit: "count"}}}
	pkt, err := frame.AppendInfo(s.pkt[:0], &in)
	if err != nil {
		panic(err) // fixed, valid input
	}
	return frame.AppendSerial(dst, pkt)
}

// next appends the next data frame, COBS-encoded with its delimiter.
func (s *stream) next(dst []byte, stamp uint64) []byte {
	i0 := uint64(s.seq) * uint64(s.frameSamples)
	for k := 0; k < s.frameSamples; k++ {
		binary.LittleEndian.PutUint16(s.payload[2*k:], uint16(int16(i0+uint64(k))))
	}
	f := frame.Frame{Seq: s.seq, TimeUS: stamp, Rate: s.rate, Channels: 1,
		SampleType: frame.I16, Count: uint16(s.frameSamples), Data: s.payload}
	var err error
	s.pkt, err = frame.AppendFrame(s.pkt[:0], &f)
	if err != nil {
		panic(err) // sizes are checked by the plan
	}
	s.seq++
	return frame.AppendSerial(dst, s.pkt)
}

// writeResult is what the writer put on the line.
type writeResult struct {
	frames  uint32 // complete frames written: seq 0..frames-1 (text: lines 0..frames-1)
	writes  uint64 // write calls that carried them
	bytes   uint64 // bytes on the line
	startUS uint64 // clock time of the first data write
	endUS   uint64 // clock time after the last write returned
	err     error  // a write that failed or timed out (the bridge stalled)
}

// deadlineWriter is the pty master: a writer with write deadlines.
type deadlineWriter interface {
	io.Writer
	SetWriteDeadline(t time.Time) error
}

// writePaced writes one frame per frame period for d, each stamped just
// before its write: the realistic workload (e.g. 48 kHz mono).
func writePaced(w deadlineWriter, s *stream, ck clock, d time.Duration) writeResult {
	period := time.Duration(s.frameSamples) * time.Second / time.Duration(s.rate)
	n := int(d / period)
	var buf []byte
	var r writeResult
	t0 := time.Now()
	r.startUS = ck.us()
	for k := 0; k < n; k++ {
		if wait := time.Until(t0.Add(time.Duration(k) * period)); wait > 0 {
			time.Sleep(wait)
		}
		buf = s.next(buf[:0], ck.us())
		_ = w.SetWriteDeadline(time.Now().Add(2 * time.Second))
		if _, err := w.Write(buf); err != nil {
			r.err = fmt.Errorf("write of frame %d: %w", k, err)
			break
		}
		r.frames++
		r.writes++
		r.bytes += uint64(len(buf))
	}
	r.endUS = ck.us()
	return r
}

// writeFlat writes frames as fast as the pty takes them for d, batch
// frames per write (the tty layer moves 4 KiB chunks; small writes would
// measure the writer, not the bridge). Each batch is stamped once.
func writeFlat(w deadlineWriter, s *stream, ck clock, d time.Duration, batch int) writeResult {
	var buf []byte
	var ends []int // end offset of each frame in buf
	var r writeResult
	end := time.Now().Add(d)
	r.startUS = ck.us()
	for time.Now().Before(end) {
		buf, ends = buf[:0], ends[:0]
		stamp := ck.us()
		for k := 0; k < batch; k++ {
			buf = s.next(buf, stamp)
			ends = append(ends, len(buf))
		}
		_ = w.SetWriteDeadline(time.Now().Add(2 * time.Second))
		n, err := w.Write(buf)
		r.writes++
		for _, e := range ends {
			if e <= n {
				r.frames++
			}
		}
		r.bytes += uint64(n)
		if err != nil {
			if errors.Is(err, os.ErrDeadlineExceeded) {
				err = fmt.Errorf("the bridge stopped reading the pty for 2 s: %w", err)
			}
			r.err = err
			break
		}
	}
	r.endUS = ck.us()
	return r
}
