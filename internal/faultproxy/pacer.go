package faultproxy

import (
	"sync"
	"time"
)

// pacer caps one direction's bandwidth: a virtual clock that each write
// advances by n/rate seconds. Writers sleep until their slot. It also
// counts the bytes forwarded.
type pacer struct {
	mu    sync.Mutex
	rate  int       // bytes per second; 0 = unlimited
	next  time.Time // when the next byte may go
	bytes uint64
}

func (pc *pacer) setRate(bps int) {
	pc.mu.Lock()
	pc.rate = max(bps, 0)
	pc.next = time.Time{}
	pc.mu.Unlock()
}

// wait sleeps until n bytes may be sent. It returns false if done closes
// first.
func (pc *pacer) wait(n int, done <-chan struct{}) bool {
	pc.mu.Lock()
	if pc.rate == 0 {
		pc.mu.Unlock()
		return true
	}
	now := time.Now()
	at := pc.next
	if at.Before(now) {
		at = now
	}
	pc.next = at.Add(time.Duration(int64(n) * int64(time.Second) / int64(pc.rate)))
	end := pc.next
	pc.mu.Unlock()
	d := time.Until(end) // the n bytes have taken their time on the wire
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-done:
		return false
	}
}

// size is how much to read at once: with a cap, about 20 ms worth, so
// that pacing stays smooth.
func (pc *pacer) size() int {
	pc.mu.Lock()
	defer pc.mu.Unlock()
	if pc.rate == 0 {
		return chunk
	}
	return min(max(pc.rate/50, 1), chunk)
}

func (pc *pacer) add(n int) {
	pc.mu.Lock()
	pc.bytes += uint64(n)
	pc.mu.Unlock()
}

func (pc *pacer) total() uint64 {
	pc.mu.Lock()
	defer pc.mu.Unlock()
	return pc.bytes
}
