package sink

import (
	"os"
	"runtime/debug"
)

// memoryHeadroom is what the sink needs besides its queue: the runtime,
// one WebSocket message (up to 1 MiB), the writer's batch, the pools.
const memoryHeadroom = 32 << 20

// limitMemory sets the Go runtime's soft memory limit to the queue's cap
// plus memoryHeadroom, unless GOMEMLIMIT says otherwise, and returns the
// function that restores the previous limit. Without it the collector
// lets the heap grow to twice what is live, so a full queue of
// MaxBufferBytes could cost twice that in RSS (docs/reliability.md,
// "Memory bounds"; serve does the same for its histories). The limit is
// soft: the collector works harder near it but never fails an allocation.
func limitMemory(queueBytes int) (restore func()) {
	if os.Getenv("GOMEMLIMIT") != "" {
		return func() {}
	}
	prev := debug.SetMemoryLimit(int64(queueBytes) + memoryHeadroom)
	return func() { debug.SetMemoryLimit(prev) }
}
