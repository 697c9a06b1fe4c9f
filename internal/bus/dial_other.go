//go:build !linux

package bus

import (
	"time"

	"github.com/nats-io/nats.go"
)

// newRawDialer is nil off Linux (internal/pollio is Linux-only): nats.go
// dials with its own dialer and the connection's own Read and Write.
func newRawDialer(time.Duration) nats.CustomDialer { return nil }
