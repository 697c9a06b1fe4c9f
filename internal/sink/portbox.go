package sink

import (
	"context"
	"sync"
	"time"
)

// reopenEvery is how often a failed real port is tried again.
const reopenEvery = time.Second

// portBox holds the output port. A real port that fails (a USB adapter
// unplugged) is closed by the writer and reopened by name when it is back;
// the upstream reader waits for the new one. A virtual port never changes.
// Safe for concurrent use; close is idempotent.
type portBox struct {
	mu     sync.Mutex
	p      outPort // nil while a real port is away
	gen    int     // incremented on every reopen
	closed bool
	change chan struct{} // closed and replaced on every change
	open   func() (outPort, error)
}

func newPortBox(p outPort, open func() (outPort, error)) *portBox {
	return &portBox{p: p, open: open, change: make(chan struct{})}
}

// get returns the current port and its generation; nil when away or closed.
func (b *portBox) get() (outPort, int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.p, b.gen
}

func (b *portBox) changed() {
	close(b.change)
	b.change = make(chan struct{})
}

// fail closes port generation gen after an error, once.
func (b *portBox) fail(gen int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.gen != gen || b.p == nil {
		return
	}
	b.p.Close()
	b.p = nil
	b.changed()
}

// reopen tries to open the port again every reopenEvery until it succeeds
// or ctx ends. It returns the new port and its generation, or nil when
// ctx ends or the box is closed.
func (b *portBox) reopen(ctx context.Context, onErr func(error)) (outPort, int) {
	for {
		p, err := b.open()
		if err == nil {
			b.mu.Lock()
			defer b.mu.Unlock()
			if b.closed {
				p.Close()
				return nil, 0
			}
			b.p, b.gen = p, b.gen+1
			b.changed()
			return p, b.gen
		}
		onErr(err)
		select {
		case <-ctx.Done():
			return nil, 0
		case <-time.After(reopenEvery):
		}
	}
}

// wait returns a port of a generation other than gen, waiting for one
// until ctx ends or the box is closed (then nil).
func (b *portBox) wait(ctx context.Context, gen int) (outPort, int) {
	for {
		b.mu.Lock()
		p, g, closed, ch := b.p, b.gen, b.closed, b.change
		b.mu.Unlock()
		if closed {
			return nil, g
		}
		if p != nil && g != gen {
			return p, g
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return nil, g
		}
	}
}

// close closes the port for good; wait and reopen then return nil.
func (b *portBox) close() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return
	}
	b.closed = true
	if b.p != nil {
		b.p.Close()
	}
	b.changed()
}
