package bus

import "github.com/nats-io/nats.go"

// RawDialerForTest is the dialer serve's NATS connections use (nil where
// there is none: then nats.go's own), for benchmarks that measure nats.go
// alone on the same footing (floor_test.go).
func RawDialerForTest() nats.CustomDialer { return newRawDialer(connectTimeout) }
