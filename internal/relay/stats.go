package relay

import "sync/atomic"

// serverStats are the counters of requests refused before they reach a
// channel, updated with atomics from any goroutine.
type serverStats struct {
	refusedFull   atomic.Uint64 // refused: --max-clients reached
	refusedAuth   atomic.Uint64 // refused: missing or wrong token (all endpoints)
	refusedOrigin atomic.Uint64 // refused: foreign Origin
	refusedHost   atomic.Uint64 // refused: Host not a name of this server (DNS rebinding)
}

// channelStats are one channel's counters: its device's sequence numbers
// and its clients. Updated with atomics from any goroutine.
type channelStats struct {
	frames          atomic.Uint64 // data frames published
	frameBytes      atomic.Uint64 // their packet bytes
	duplicates      atomic.Uint64 // frames dropped because their seq was published already
	late            atomic.Uint64 // frames dropped because their gap had been reported
	deviceGaps      atomic.Uint64 // device gap incidents
	deviceGapFrames atomic.Uint64 // frames lost between device and serve
	restarts        atomic.Uint64 // device sequence restarts
	envBatches      atomic.Uint64 // batch entries put into the ring (envelope.go)
	envComputed     atomic.Uint64 // envelopes computed for a batch and level, shared by its clients
	envHeads        atomic.Uint64 // envelopes computed for one client: a batch cut at its resume point

	accepted       atomic.Uint64 // WebSocket clients accepted
	messagesSent   atomic.Uint64 // WebSocket messages sent to clients
	bytesSent      atomic.Uint64 // their payload bytes
	slowSkips      atomic.Uint64 // slow-client incidents answered by skipping ahead
	slowCloses     atomic.Uint64 // slow-client incidents answered by closing
	droppedFrames  atomic.Uint64 // frames slow clients skipped
	backfills      atomic.Uint64 // mirrors: times a client read what its ring lacked from the bus
	writeTimeouts  atomic.Uint64 // clients dropped because a write did not complete in time
	pingTimeouts   atomic.Uint64 // clients dropped because they did not answer a ping
	clientMessages atomic.Uint64 // messages received from clients
	clientErrors   atomic.Uint64 // client messages answered with an error
	oversize       atomic.Uint64 // clients closed with 1009
	commands       atomic.Uint64 // commands forwarded to the device
	errorsDropped  atomic.Uint64 // error replies dropped because the client was not reading
	inlineWrites   atomic.Uint64 // batches a publisher wrote for a parked client (inline.go)
	inlineRest     atomic.Uint64 // of which the socket took part only: the writer wrote the rest
}
