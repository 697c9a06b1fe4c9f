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
// API, per CRC implementation. The C program times its own loop, so the
// figures exclude process start; they show the relative cost of the CRC
// modes, not MCU speed (ns/op is a whole run of the C program). Run: go test -bench CEncoder ./firmware-ref/conformance
func BenchmarkCEncoder(b *testing.B) {
	const samples = 256
	for _, mode := range crcModes {
		b.Run(fmt.Sprintf("crc_mode_%d", mode), func(b *testing.B) {
			const iters = 100000 // the C loop; b.N only repeats the whole run
			out := runHost(b, mode, []string{fmt.Sprintf("B %d %d", iters, samples)})
			ns, err := strconv.ParseFloat(strings.Fields(out[0])[0], 64)
			if err != nil {
				b.Fatalf("bad bench output %q", out[0])
			}
			bytes := float64(frame.Overhead + frame.DataHeaderSize + 2*samples)
			b.ReportMetric(ns, "c_ns/frame")
			b.ReportMetric(bytes/ns*1e3, "c_MB/s")
		})
	}
}
