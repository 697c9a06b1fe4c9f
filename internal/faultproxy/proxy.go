package faultproxy

import (
	"fmt"
	"maps"
	"net"
	"slices"
	"sync"
	"time"
)

// CutMode says how Cut closes connections.
type CutMode int

// Cut modes.
const (
	CutFIN CutMode = iota // orderly close: the peers read EOF
	CutRST                // abortive close (SO_LINGER 0): the peers get "connection reset"
)

// Stats are the proxy's counters since New.
type Stats struct {
	Accepted  uint64 // connections accepted and forwarded
	Refused   uint64 // connections reset at once because of Refuse
	DialFails uint64 // connections closed because the target refused
	Cut       uint64 // connections closed by Cut
	HalfOpen  uint64 // connections turned into black holes by HalfOpen
	Active    int    // connections open now (including black holes)
	BytesUp   uint64 // bytes forwarded client -> target
	BytesDown uint64 // bytes forwarded target -> client
}

// Proxy forwards TCP connections from its loopback address to a target,
// injecting the faults the test asks for. See the package doc.
type Proxy struct {
	target string
	ln     net.Listener
	up     *pacer // client -> target
	down   *pacer // target -> client

	mu      sync.Mutex
	cond    *sync.Cond // broadcast when stalled changes or a pair closes
	pairs   map[*pair]struct{}
	stalled bool
	refuse  bool
	closed  bool
	stats   Stats
	wg      sync.WaitGroup
}

// New listens on 127.0.0.1:0 and forwards each connection to target
// (host:port). It starts forwarding at once.
func New(target string) (*Proxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("failed to listen on 127.0.0.1: %w", err)
	}
	p := &Proxy{target: target, ln: ln, up: &pacer{}, down: &pacer{}, pairs: map[*pair]struct{}{}}
	p.cond = sync.NewCond(&p.mu)
	p.wg.Add(1)
	go p.acceptLoop()
	return p, nil
}

// Addr is the proxy's address (127.0.0.1:port): point the client here.
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

func (p *Proxy) acceptLoop() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return // closed
		}
		p.mu.Lock()
		refuse, closed := p.refuse, p.closed
		if refuse {
			p.stats.Refused++
		}
		p.mu.Unlock()
		if refuse || closed {
			abort(c)
			continue
		}
		p.wg.Add(1)
		go p.connect(c)
	}
}

// connect dials the target for client c and starts forwarding.
func (p *Proxy) connect(c net.Conn) {
	defer p.wg.Done()
	t, err := net.DialTimeout("tcp", p.target, 5*time.Second)
	if err != nil {
		p.mu.Lock()
		p.stats.DialFails++
		p.mu.Unlock()
		abort(c)
		return
	}
	pr := &pair{p: p, client: c, server: t, done: make(chan struct{})}
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		pr.close(CutFIN)
		return
	}
	p.pairs[pr] = struct{}{}
	p.stats.Accepted++
	p.mu.Unlock()
	pr.run()
}

// Cut closes every current connection (black holes included) the way mode
// says and returns how many it closed. New connections are accepted as
// usual.
func (p *Proxy) Cut(mode CutMode) int {
	ps := p.takeAll()
	for _, pr := range ps {
		pr.close(mode)
	}
	p.mu.Lock()
	p.stats.Cut += uint64(len(ps))
	p.mu.Unlock()
	return len(ps)
}

// takeAll removes and returns every pair.
func (p *Proxy) takeAll() []*pair {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := slices.Collect(maps.Keys(p.pairs))
	clear(p.pairs)
	return out
}

// Stall holds all forwarding, on current and new connections, until
// Resume. Bytes already read are delivered after Resume: nothing is lost.
func (p *Proxy) Stall() {
	p.mu.Lock()
	p.stalled = true
	p.mu.Unlock()
}

// Resume ends a Stall.
func (p *Proxy) Resume() {
	p.mu.Lock()
	p.stalled = false
	p.cond.Broadcast()
	p.mu.Unlock()
}

// HalfOpen turns every current connection into a black hole: nothing more
// is read or forwarded in either direction, and neither peer gets FIN or
// RST. The sockets stay open until a later Cut or Close. It returns how
// many connections it affected. New connections forward normally.
func (p *Proxy) HalfOpen() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for pr := range p.pairs {
		if !pr.dead {
			pr.dead = true
			n++
		}
	}
	p.stats.HalfOpen += uint64(n)
	return n
}

// Refuse makes new connections fail (accepted, then reset at once) while
// on is true: the server looks unreachable.
func (p *Proxy) Refuse(on bool) {
	p.mu.Lock()
	p.refuse = on
	p.mu.Unlock()
}

// SetRate caps each direction at bytesPerSec (shared by all connections);
// 0 removes the cap.
func (p *Proxy) SetRate(bytesPerSec int) {
	p.up.setRate(bytesPerSec)
	p.down.setRate(bytesPerSec)
}

// Stats returns the counters.
func (p *Proxy) Stats() Stats {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := p.stats
	s.Active = len(p.pairs)
	s.BytesUp = p.up.total()
	s.BytesDown = p.down.total()
	return s
}

// Close stops accepting, closes every connection and waits for the
// forwarding goroutines. It is idempotent.
func (p *Proxy) Close() error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil
	}
	p.closed = true
	p.mu.Unlock()
	err := p.ln.Close()
	for _, pr := range p.takeAll() {
		pr.close(CutFIN)
	}
	p.wg.Wait()
	return err
}

// abort closes c with RST.
func abort(c net.Conn) {
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = c.Close()
}
