package serve

import (
	"os"
	"runtime/debug"

	"github.com/rs/zerolog"
)

// memoryHeadroom is the memory serve needs besides its histories: the
// runtime, decoders, HTTP, and each client's buffers (about 30 kB each).
const memoryHeadroom = 64 << 20

// limitMemory sets the Go runtime's soft memory limit to the histories'
// cap plus memoryHeadroom, unless GOMEMLIMIT says otherwise, and returns
// the function that restores the previous limit. Without it the garbage
// collector lets the heap grow to twice what is live, so a full history
// of --history-bytes could cost twice that in RSS; with it RSS stays near
// --history-bytes plus the headroom (docs/reliability.md, "Memory
// bounds"). The limit is soft: should more be live (thousands of
// clients), the collector works harder but never fails an allocation.
func limitMemory(historyBytes int64, log zerolog.Logger) (restore func()) {
	if os.Getenv("GOMEMLIMIT") != "" {
		return func() {}
	}
	limit := historyBytes + memoryHeadroom
	prev := debug.SetMemoryLimit(limit)
	log.Debug().Int64("bytes", limit).Msg("soft memory limit: the histories' cap plus headroom (GOMEMLIMIT overrides)")
	return func() { debug.SetMemoryLimit(prev) }
}
