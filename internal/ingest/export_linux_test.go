package ingest

import "testing"

// SmallLoop makes the sessions that start during t read through a pubLoop
// of their own whose epoll_wait returns at most maxEvents connections (so
// that a round often leaves ready connections for the next); the
// process's loop is back for the sessions that start after t. The new
// loop's goroutine stays parked for the process's life.
func SmallLoop(t *testing.T, maxEvents int) {
	old := loadLoop()
	l, err := startPubLoopN(maxEvents)
	if err != nil {
		t.Fatal(err)
	}
	theLoop.Store(l)
	t.Cleanup(func() { theLoop.Store(old) })
}

// LoopConns is how many connections the loop of sessions that start now
// has in its epoll set.
func LoopConns() int {
	l := loadLoop()
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.regs)
}
