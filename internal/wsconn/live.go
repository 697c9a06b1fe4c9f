package wsconn

import (
	"context"
	"errors"
	"net"
	"sync"
	"time"
)

// DeadAfter is how many ping intervals without a sign of life make a
// connection dead.
const DeadAfter = 2

// Pinger sends a WebSocket ping and waits for its pong:
// *websocket.Conn (coder/websocket).
type Pinger interface {
	Ping(ctx context.Context) error
}

// KeepOptions configure Flow.Keep.
type KeepOptions struct {
	// Interval: a ping and a live check this often.
	Interval time.Duration
	// WriteTimeout: a ping that cannot be written within
	// max(Interval, WriteTimeout) cuts the connection.
	WriteTimeout time.Duration
	// LastSign returns the latest of the caller's own signs of life
	// besides pongs, which the Flow sees itself: when the connection
	// opened, a write that completed after waiting for the peer to read
	// (Conn.Unblocked). Called from the timer's goroutine.
	LastSign func() time.Time
	// Dead is called once, from the timer's goroutine, when the
	// connection has shown no sign of life for more than DeadAfter
	// intervals; it should close the connection. The checks stop there.
	Dead func(silent time.Duration)
}

// keepState is the keepalive's part of a Flow, guarded by Flow.mu.
type keepState struct {
	conn    Pinger
	opts    KeepOptions
	timer   *time.Timer
	pinging bool // a goroutine is sending pings (pings)
	again   bool // a ping was asked for while one was outstanding
	closed  bool // a ping found the connection closed: no more pings
	stopped bool
	wg      sync.WaitGroup // the timer's and the pings' goroutines
}

// Keep starts the keepalive of conn: every o.Interval a timer checks the
// connection's signs of life (any pong, however late, and o.LastSign) and
// sends a ping. No goroutine waits between checks: the timer's function
// runs on a goroutine of its own each interval, and a ping's goroutine
// lives until its pong (or the timeout) comes, so an idle connection
// costs a timer, not two parked goroutines and their stacks. Pings go
// one at a time; Request asks for one sooner. Call Keep once; Stop ends
// it.
func (f *Flow) Keep(conn Pinger, o KeepOptions) {
	f.mu.Lock()
	defer f.mu.Unlock()
	k := &f.keep
	k.conn, k.opts = conn, o
	k.timer = time.AfterFunc(o.Interval, f.tick)
}

// Request asks for a ping now, without waiting: one is sent at once, or,
// if a ping is waiting for its pong, right after that pong. It does
// nothing before Keep or after Stop.
func (f *Flow) Request() {
	if f.claim() {
		go f.pings()
	}
}

// Stop ends the keepalive and waits for its goroutines: close the
// connection first, so that a ping waiting for its pong returns. Safe to
// call more than once, and without Keep.
func (f *Flow) Stop() {
	f.mu.Lock()
	k := &f.keep
	k.stopped = true
	if k.timer != nil {
		k.timer.Stop()
	}
	f.mu.Unlock()
	k.wg.Wait()
}

// claim makes the caller the ping sender (true), or notes that a ping is
// wanted after the outstanding one (false).
func (f *Flow) claim() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	k := &f.keep
	switch {
	case k.conn == nil || k.stopped || k.closed:
		return false
	case k.pinging:
		k.again = true
		return false
	}
	k.pinging = true
	k.wg.Add(1)
	return true
}

// pings sends pings, each waiting for its pong, while more are asked for.
func (f *Flow) pings() {
	k := &f.keep
	defer k.wg.Done()
	for {
		f.mark()
		// Not derived from the caller's context: a cancelled write would
		// cut the connection before its writer can send a close status.
		ctx, cancel := context.WithTimeout(context.Background(), max(k.opts.Interval, k.opts.WriteTimeout))
		err := k.conn.Ping(ctx) // the pong is handled by OnPong, however late
		cancel()
		f.mu.Lock()
		k.closed = k.closed || errors.Is(err, net.ErrClosed)
		if !k.again || k.stopped || k.closed {
			k.pinging, k.again = false, false
			f.mu.Unlock()
			return
		}
		k.again = false
		f.mu.Unlock()
	}
}

// tick is the timer's function: the live check, then a ping.
func (f *Flow) tick() {
	f.mu.Lock()
	k := &f.keep
	if k.stopped {
		f.mu.Unlock()
		return
	}
	k.timer.Reset(k.opts.Interval) // under the lock: Stop cannot come between
	k.wg.Add(1)
	f.mu.Unlock()
	defer k.wg.Done()
	if silent := time.Since(Latest(f.LastPong(), k.opts.LastSign())); silent > DeadAfter*k.opts.Interval {
		f.mu.Lock()
		k.timer.Stop()
		f.mu.Unlock()
		k.opts.Dead(silent)
		return
	}
	if f.claim() {
		f.pings()
	}
}

// Latest returns the latest of ts: the last sign of life among several.
func Latest(ts ...time.Time) time.Time {
	var l time.Time
	for _, t := range ts {
		if t.After(l) {
			l = t
		}
	}
	return l
}
