package conformance

import (
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/wsbridge/wsbridge/internal/frame"
)

// BenchmarkCEncoder measures the C encoder on the host: one 256-sample u16
// frame (the adc_dma_frames default) serial-encoded through the streaming
// API, per CRC implementation, with the payload put in one call (put_frame)
// or one wsb_put_u16 per sample (put_sample, as i2s_mic_frames converts
// samples on the way). The C program times its own loop, so the figures
// exclude process start; they show relative costs, not MCU speed (ns/op is
// a whole run of the C program). Run: go test -bench CEncoder ./firmware-ref/conformance
func BenchmarkCEncoder(b *testing.B) {
	const samples = 256
	for _, put := range []struct{ name, op string }{{"put_frame", "B"}, {"put_sample", "S"}} {
		for _, mode := range crcModes {
			b.Run(fmt.Sprintf("%s/crc_mode_%d", put.name, mode), func(b *testing.B) {
				benchHost(b, mode, fmt.Sprintf("%s %d %d", put.op, 100000, samples), samples)
			})
		}
	}
}

// benchHost runs one host bench command (its loop count is in cmd; b.N only
// repeats the whole run) and reports the C figures.
func benchHost(b *testing.B, mode int, cmd string, samples int) {
	out := runHost(b, mode, []string{cmd})
	ns, err := strconv.ParseFloat(strings.Fields(out[0])[0], 64)
	if err != nil {
		b.Fatalf("bad bench output %q", out[0])
	}
	bytes := float64(frame.Overhead + frame.DataHeaderSize + 2*samples)
	b.ReportMetric(ns, "c_ns/frame")
	b.ReportMetric(bytes/ns*1e3, "c_MB/s")
}
