package faultproxy

import (
	"net"
	"sync"
)

// chunk is the most a pipe reads at once; with a rate cap it also bounds
// how far one write runs ahead of the pacing.
const chunk = 16 << 10

// pair is one proxied connection: the client side and the target side,
// with one goroutine per direction. dead (a black hole) and closed are
// guarded by p.mu.
type pair struct {
	p              *Proxy
	client, server net.Conn
	dead, closed   bool
	once           sync.Once
	done           chan struct{}
}

// run forwards both directions until the pair is closed or a peer closes.
func (pr *pair) run() {
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); pr.pipe(pr.server, pr.client, pr.p.up) }()
	go func() { defer wg.Done(); pr.pipe(pr.client, pr.server, pr.p.down) }()
	wg.Wait()
}

// pipe copies src to dst through the gate and the pacer. When a peer
// closes or fails, the pair is closed (FIN both ways) unless it is a
// black hole, whose other peer must see nothing.
func (pr *pair) pipe(dst, src net.Conn, pc *pacer) {
	buf := make([]byte, chunk)
	for {
		if !pr.gate() {
			return
		}
		n, err := src.Read(buf[:pc.size()])
		if n > 0 {
			if !pr.gate() || !pc.wait(n, pr.done) {
				return
			}
			if _, werr := dst.Write(buf[:n]); werr != nil {
				err = werr
			} else {
				pc.add(n)
			}
		}
		if err != nil {
			pr.peerGone()
			return
		}
	}
}

// gate blocks while the proxy is stalled or the pair is a black hole. It
// returns false once the pair is closed.
func (pr *pair) gate() bool {
	p := pr.p
	p.mu.Lock()
	defer p.mu.Unlock()
	for !pr.closed && (p.stalled || pr.dead) {
		p.cond.Wait()
	}
	return !pr.closed
}

// peerGone ends a pair after one peer closed or failed: an ordinary proxy
// passes the close on. A black hole stays silent.
func (pr *pair) peerGone() {
	p := pr.p
	p.mu.Lock()
	if pr.dead || pr.closed {
		p.mu.Unlock()
		return
	}
	delete(p.pairs, pr)
	p.mu.Unlock()
	pr.close(CutFIN)
}

// close closes both sides once and wakes the pair's goroutines.
func (pr *pair) close(mode CutMode) {
	pr.once.Do(func() {
		p := pr.p
		p.mu.Lock()
		pr.closed = true
		p.cond.Broadcast()
		p.mu.Unlock()
		close(pr.done)
		if mode == CutRST {
			abort(pr.client)
			abort(pr.server)
			return
		}
		_ = pr.client.Close()
		_ = pr.server.Close()
	})
}
