package relay

import (
	"time"

	"github.com/wsbridge/wsbridge/internal/wsconn"
)

// Inline writes: a frame published to a channel whose subscribers are
// caught up is written to them by the publishing goroutine itself, rather
// than by waking each subscriber's writer goroutine to write it. A wake-up
// and a park per frame per subscriber cost more CPU than the write's own
// user-space part (the scheduler, the writer's select, its fetch, its
// write timer), and at a Wi-Fi board's 62.5 frames/s every frame finds
// its subscriber's writer parked.
//
// The writer goroutine stays the owner of the client's writer-only state
// (its ring position, expected seq, epoch, ...); client.state says who
// holds it:
//
//   - writerRunning: the writer goroutine.
//   - writerParked: the writer waits for entries (client.park); a
//     publisher may take the state by CompareAndSwap to writerInline.
//   - writerInline: a publisher writes for the writer (client.inline), and
//     gives the state back (writerParked) when done, waking the writer
//     when it must run: the socket did not take everything at once (the
//     rest stays corked for the writer, which may wait, under its write
//     timeout), the client is behind the history, its flow window is
//     full, it has error replies or a restart status to send, serve is
//     shutting down, or the writer itself woke meanwhile.
//
// A publisher never waits for a client: the connection is corked with
// TryCork (which fails rather than wait for another writer) and written
// with a single non-blocking write (TryUncork). It writes for at most
// inlineMax clients per frame and wakes the others' writers, as it does
// for clients of other kinds (envelopes, TLS connections): fan-out stays
// bounded for the producer. Everything else is the writer's own code
// (render, write), so ordering, gaps, flow control and accounting are
// the same whoever writes.

// Only frames that come apart are written inline: at least inlineGap
// after the channel's previous one. Frames that come faster (a flat-out
// producer, a burst) wake the writers as before, and each writer sends
// what gathered meanwhile in one write, on its own goroutine (another
// CPU): writing every frame on the producer's goroutine, one system call
// each, gives that batching up (one A/B of BenchmarkFanOut on the shared
// machine: 73k down to 8.6k frames/s of 4096 samples to 1 client; repeat
// runs varied by 3x). At a Wi-Fi board's 62.5 frames/s, or a serial
// port's 1000, every frame would wake its writers anyway.
const inlineGap = 100 * time.Microsecond

// Writer ownership (client.state).
const (
	writerRunning int32 = iota
	writerParked
	writerInline
)

// inlineMax is how many clients a publisher writes to per frame; the
// rest are woken.
const inlineMax = 4

// inlineBatch is how many ring entries a publisher writes for one client
// at a time: a caught-up client has one or two (a gap, then its frame),
// a few more after a burst (Channel.Hold).
const inlineBatch = 8

// signal wakes the client's parked writer; it never blocks.
func (c *client) signal() {
	select {
	case c.wakec <- struct{}{}:
	default:
	}
}

// park waits, parked on the hub (next put the client on its list), until
// the hub signals new entries, an error reply is queued or the client's
// context ends; then it takes the writer's state back from any publisher
// writing for it.
func (c *client) park(done <-chan struct{}, stop func() error) error {
	var m []byte
	stopped := false
	select {
	case <-c.wakec:
	case m = <-c.direct:
	case <-done:
		stopped = true
	}
	c.reclaim()
	switch {
	case stopped:
		return stop()
	case m != nil:
		return c.writeTexts([][]byte{m})
	}
	return nil
}

// reclaim makes the writer goroutine the owner of its state again,
// waiting for a publisher's inline write to end.
func (c *client) reclaim() {
	for !c.state.CompareAndSwap(writerParked, writerRunning) {
		c.wantBack.Store(true)
		if c.state.CompareAndSwap(writerParked, writerRunning) {
			break
		}
		<-c.wakec // the publisher signals once it gives the state back
	}
	c.wantBack.Store(false)
}

// inline is run by a publisher, outside the hub's lock, for a client the
// hub found parked: it writes what the ring holds for the client if the
// writer is parked and nothing calls for the writer itself, and reports
// whether the client is caught up and parked again (else the caller
// wakes its writer).
func (c *client) inline() bool {
	if !c.state.CompareAndSwap(writerParked, writerInline) {
		return false
	}
	ok := c.inlineWrite()
	c.state.Store(writerParked)
	return ok && !c.wantBack.Load()
}

// inlineWrite writes the client's next entries without waiting; the
// caller holds the writer's state. True: all written, the client is
// parked on the hub again.
func (c *client) inlineWrite() bool {
	if c.level > 0 || c.announce != "" || c.flushPending || c.inlineErr != nil || len(c.direct) > 0 ||
		c.srv.ctx.Err() != nil {
		return false
	}
	var buf [inlineBatch]*entry
	defer clear(buf[:])
	for range 2 { // a second round only if entries came meanwhile
		if c.flow.InFlight() > wsconn.Window {
			return false
		}
		pos := c.pos.Load()
		n, behind, _ := c.ch.hub.next(c, pos, buf[:], false)
		switch {
		case behind != nil:
			return false
		case n == 0:
			return true // caught up: next put it back on the hub's list
		case !c.cork.TryCork():
			return false
		}
		if err := c.writeEntries(pos, buf[:n], false); err != nil {
			c.inlineErr, c.flushPending = err, true
			return false
		}
		flushed, err := c.cork.TryUncork()
		c.sentBatch(pos, n) // gathered: what the socket did not take, the writer's Uncork writes
		c.ch.stats.inlineWrites.Add(1)
		if err != nil || !flushed {
			c.ch.stats.inlineRest.Add(1)
			c.inlineErr, c.flushPending = c.writeErr(err), true
			return false
		}
	}
	return false
}

// afterInline is the writer's part of an inline write that could not
// finish: it writes what stayed corked, waiting as a writer may (under
// the write timeout), or returns the inline write's error.
func (c *client) afterInline() error {
	c.flushPending = false
	err := c.inlineErr
	c.inlineErr = nil
	c.begin()
	if ferr := c.end(); err == nil { // after a failed write, only the uncork counts
		err = ferr
	}
	return err
}
