package source

import (
	"context"

	"github.com/wsbridge/wsbridge/internal/frame"
)

// Publisher receives what a source reads: it is one channel of the hub.
// A source calls it from one goroutine at a time, in order. No method
// blocks on clients; p and the slices it holds are valid only during the
// call.
type Publisher interface {
	// Packet delivers a valid packet: data, info, log or reply. Data
	// frames are handed on as read, with the device's own seq: the
	// channel classifies gaps, duplicates, late frames and restarts.
	Packet(p *frame.Packet)
	// Up says the device is (back) up; reason says how ("open", "reopen
	// /dev/ttyUSB0", "connected from 10.0.0.7").
	Up(reason string)
	// Down says the device is gone; clients stay connected.
	Down(reason string)
}

// Source is one device or feed.
//
// Run reads until ctx ends and returns nil then. It returns an error only
// for a failure that retrying cannot heal (bad settings, a device that
// cannot be used at start when the user asked for all-or-nothing); a
// device that goes away is reported with Down and retried inside Run.
// Run is called at most once per Source.
//
// Command and Counters are safe for concurrent use with Run and each
// other, before, during and after it.
type Source interface {
	Run(ctx context.Context, pub Publisher) error
	// Command writes one text line to the device. It returns an error
	// (wrapping ErrDown) when the device is not there to take it.
	Command(line string) error
	// Counters reports the source's own counters (bytes read, noise,
	// opens, ...) for /metrics and /api/channels.
	Counters() []Counter
}

// Counter is one counter reported by /metrics and /api/*. Name is the
// metric name without the wsbridge_ prefix (e.g. "serial_bytes_total").
type Counter struct {
	Name  string
	Help  string
	Value float64
	Gauge bool // a gauge rather than a counter
}
