//go:build linux

package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"
	"sync/atomic"
	"time"
)

// The text workloads are what a plain Arduino sketch prints: the counter
// `Serial.println(i++)`, one line "i\r\n" per sample, written into the pty
// every textTick as a USB serial bridge delivers them (full-speed USB
// moves data in 1 ms frames): 1 line per write at 1000 lines/s, 48 at
// 48000 lines/s. No line carries a timestamp, so the writer records when
// it wrote each line (lineStamps) and consumers look their values up.
const textTick = time.Millisecond

// lineStamps holds the bench-clock time (µs) of the write that carried
// each line, by line value. The writer stores before it writes; consumers
// load after they receive.
type lineStamps []atomic.Uint64

func newLineStamps(w workload) lineStamps {
	return make(lineStamps, int(w.duration.Seconds()*float64(w.rate))+int(w.rate)+16)
}

// at returns the write time of line v, false if v was never written.
func (s lineStamps) at(v int64) (uint64, bool) {
	if v < 0 || v >= int64(len(s)) {
		return 0, false
	}
	us := s[v].Load()
	return us, us != 0
}

// writeText writes counter lines at w.rate for w.duration, every
// textTick the lines due by then, each write stamped just before it.
// written.frames counts lines; written.writes the writes.
func writeText(w deadlineWriter, wl workload, ck clock, stamps lineStamps) writeResult {
	var r writeResult
	var buf []byte
	t0 := time.Now()
	r.startUS = ck.us()
	total := int64(wl.duration.Seconds() * float64(wl.rate))
	next := int64(0)
	for k := int64(1); next < total; k++ {
		due := min(total, k*int64(wl.rate)*int64(textTick)/int64(time.Second))
		if wait := time.Until(t0.Add(time.Duration(k) * textTick)); wait > 0 {
			time.Sleep(wait)
		}
		if due <= next {
			continue
		}
		buf = buf[:0]
		for v := next; v < due; v++ {
			buf = strconv.AppendInt(buf, v, 10)
			buf = append(buf, '\r', '\n')
		}
		stamp := max(ck.us(), 1) // 0 means "not written"
		for v := next; v < due && v < int64(len(stamps)); v++ {
			stamps[v].Store(stamp)
		}
		_ = w.SetWriteDeadline(time.Now().Add(2 * time.Second))
		n, err := w.Write(buf)
		r.bytes += uint64(n)
		r.writes++
		if err != nil {
			r.frames += uint32(bytes.Count(buf[:n], []byte{'\n'}))
			if errors.Is(err, os.ErrDeadlineExceeded) {
				err = fmt.Errorf("the bridge stopped reading the pty for 2 s: %w", err)
			}
			r.err = err
			break
		}
		r.frames += uint32(due - next)
		next = due
	}
	r.endUS = ck.us()
	return r
}

// lineReader splits a raw byte stream (ser2net, socat, the Python and
// Node bridges forward the device's bytes unchanged) into counter lines.
type lineReader struct {
	part []byte
}

// feed calls fn with the value of every complete line in b; bad is
// called for a line that is not a number.
func (l *lineReader) feed(b []byte, fn func(v int64), bad func()) {
	for len(b) > 0 {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			l.part = append(l.part, b...)
			return
		}
		line := b[:i]
		if len(l.part) > 0 {
			l.part = append(l.part, line...)
			line = l.part
		}
		if v, ok := atoiLine(bytes.TrimSuffix(line, []byte{'\r'})); ok {
			fn(v)
		} else {
			bad()
		}
		l.part = l.part[:0]
		b = b[i+1:]
	}
}

// atoiLine parses a non-negative decimal without allocating.
func atoiLine(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 18 {
		return 0, false
	}
	var v int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + int64(c-'0')
	}
	return v, true
}

var samplesKey = []byte(`"samples":[[`)

// jsonFrameValues calls fn with every value of channel 0 of one of
// wsbridge's JSON frames ({"type":"frame",...,"samples":[[v,...]]}), in
// order; it reports false if msg is not a frame it can read.
func jsonFrameValues(msg []byte, fn func(v int64)) bool {
	i := bytes.Index(msg, samplesKey)
	if i < 0 {
		return false
	}
	rest := msg[i+len(samplesKey):]
	end := bytes.IndexByte(rest, ']')
	if end < 0 {
		return false
	}
	for f := range bytes.SplitSeq(rest[:end], []byte{','}) {
		v, ok := atoiLine(f)
		if !ok {
			return false
		}
		fn(v)
	}
	return true
}
