package ingest

import (
	"io"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"unsafe"

	"github.com/wsbridge/wsbridge/internal/pollio"
	"github.com/wsbridge/wsbridge/internal/wsconn"
)

// pubLoop reads the connections of many publishers from one goroutine,
// so that a message costs neither a goroutine wake-up nor a read that
// finds nothing (EAGAIN): the connections' descriptors sit, level-
// triggered, in an epoll set of the loop's own, whose descriptor the
// runtime's poller watches. A round is epoll_wait without waiting, then
// one read per ready connection, every whole message of it decoded and
// the channel's held writes flushed; the loop parks in the poller only
// when a round finds nothing ready.
//
// The loop decodes data messages and takes in pongs; anything else (a
// ping to answer, a close frame, a refusal, the connection's end) it
// hands to the session's goroutine, which then reads on its own until
// its buffer is used up and registers again. A session whose context
// ends takes its connection back (remove) before anything closes it.
type pubLoop struct {
	epfd   int
	rc     syscall.RawConn // of the epoll descriptor
	events []syscall.EpollEvent

	mu     sync.Mutex
	regs   map[int32]*pubReg
	nextID int32
	served []*pubReg // this round's (loop goroutine only)
}

// pubReg is one session's registration with the loop.
type pubReg struct {
	l  *pubLoop
	n  *Network
	s  *session
	rc syscall.RawConn // the TCP connection's
	fd *pollio.FD

	mu   sync.Mutex // held while the loop reads for it, and to add or remove it
	on   bool       // in the loop's epoll set
	id   int32
	back chan loopResult // the loop's hand-over; one at a time
}

var (
	theLoop  atomic.Pointer[pubLoop] // nil if it could not start; tests swap it (export_linux_test.go)
	loopOnce sync.Once
)

// newPubReg returns the registration of a session whose connection the
// loop can read (TCP on Linux, not TLS), or nil.
func newPubReg(n *Network, s *session) *pubReg {
	rc := tcpRawConn(s.pc.nc)
	if rc == nil {
		return nil
	}
	l := loadLoop()
	if l == nil {
		return nil
	}
	return &pubReg{l: l, n: n, s: s, rc: rc, fd: pollio.New(rc), back: make(chan loopResult, 1)}
}

// loadLoop starts the process's pubLoop on first use and returns it; nil
// if it could not start.
func loadLoop() *pubLoop {
	loopOnce.Do(func() {
		if l, err := startPubLoop(); err == nil {
			theLoop.Store(l)
		}
	})
	return theLoop.Load()
}

// tcpRawConn is the RawConn of a TCP connection, or of the one under a
// *wsconn.Conn; nil for anything else.
func tcpRawConn(nc net.Conn) syscall.RawConn {
	tc, ok := under(nc).(*net.TCPConn)
	if !ok {
		return nil
	}
	rc, err := tc.SyscallConn()
	if err != nil {
		return nil
	}
	return rc
}

// startPubLoop makes the epoll set, hands its descriptor to the
// runtime's poller and starts the loop's goroutine, which runs for the
// process's life (parked in the poller while no publisher sends).
func startPubLoop() (*pubLoop, error) { return startPubLoopN(loopEvents) }

// loopEvents is how many ready connections one epoll_wait of the loop
// returns at most.
const loopEvents = 128

// startPubLoopN is startPubLoop with epoll_wait's maxevents (tests make
// it small).
func startPubLoopN(maxEvents int) (*pubLoop, error) {
	epfd, err := syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
	if err != nil {
		return nil, os.NewSyscallError("epoll_create1", err)
	}
	if err := syscall.SetNonblock(epfd, true); err != nil {
		syscall.Close(epfd)
		return nil, os.NewSyscallError("fcntl", err)
	}
	f := os.NewFile(uintptr(epfd), "publoop-epoll")
	rc, err := f.SyscallConn()
	if err != nil {
		f.Close()
		return nil, err
	}
	l := &pubLoop{epfd: epfd, rc: rc, events: make([]syscall.EpollEvent, maxEvents), regs: map[int32]*pubReg{}}
	go l.run(f)
	return l, nil
}

// run is the loop's goroutine. f keeps the epoll descriptor open.
func (l *pubLoop) run(f *os.File) {
	defer f.Close()
	l.rc.Read(l.loop) // returns only if the descriptor fails: nothing closes it
}

// loop is the RawConn callback, for the loop's whole life: rounds while
// epoll_wait (without waiting) finds connections ready; false parks the
// loop in the runtime's poller until the epoll descriptor is readable,
// then the runtime calls it again. Staying inside one RawConn.Read spares
// a round the Read's own bookkeeping (its lock and pollReset).
//
// The loop parks only after an epoll_wait that found nothing, although
// after a round that drained every socket it read the kernel would wake
// it for anything that came since: parking at once there showed no gain
// (at 100 boards that epoll_wait finds another board's frame about one
// time in five, and a park costs the scheduler two epoll_waits and a
// context switch; docs/benchmarks.md, "Per-frame trims, 2026-12-02
// afternoon").
func (l *pubLoop) loop(fd uintptr) bool {
	for {
		n, e := l.poll(fd)
		if e != 0 {
			return true
		}
		if n == 0 {
			return false
		}
		l.round(l.events[:n])
	}
}

// poll is epoll_wait on the loop's set without waiting.
func (l *pubLoop) poll(fd uintptr) (int, syscall.Errno) {
	for {
		n, _, e := syscall.RawSyscall6(syscall.SYS_EPOLL_PWAIT, fd, uintptr(unsafe.Pointer(&l.events[0])),
			uintptr(len(l.events)), 0, 0, 0)
		if e != syscall.EINTR {
			return int(n), e
		}
	}
}

// round serves each connection of ready, what epoll_wait returned.
func (l *pubLoop) round(ready []syscall.EpollEvent) {
	l.served = l.served[:0]
	l.mu.Lock()
	for _, ev := range ready {
		if r := l.regs[ev.Fd]; r != nil {
			l.served = append(l.served, r)
		}
	}
	l.mu.Unlock()
	for _, r := range l.served {
		r.serve()
	}
}

// serve reads once from r's connection and decodes what it holds, or
// hands the session what the loop does not do.
func (r *pubReg) serve() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.on {
		return
	}
	pc := r.s.pc
	pc.r = 0
	k, err := r.fd.TryRead(pc.buf)
	r.n.loopReads.Add(1)
	switch {
	case err == pollio.ErrWouldBlock:
		pc.w = 0
		return
	case err == nil && k == 0:
		pc.w, pc.rerr = 0, io.EOF
		r.handOver(loopResult{resume: true})
		return
	case err != nil:
		pc.w, pc.rerr = 0, pollio.OpError(pc.nc, "read", err) // as net.Conn's Read names it
		r.handOver(loopResult{resume: true})
		return
	}
	pc.w = k
	if res, ok := r.consume(); ok {
		r.handOver(res)
		return // the session flushes before it reads
	}
	if r.s.flush != nil {
		r.s.flush() // every message of this read is published
	}
}

// consume decodes the data messages read and takes in pongs; it stops
// (ok) at the first event the session's goroutine must handle.
func (r *pubReg) consume() (res loopResult, ok bool) {
	for {
		ev, err := r.s.pc.parse()
		switch {
		case err != nil:
			return loopResult{err: err}, true
		case ev.Op == 0:
			return res, false
		case ev.Op == wsconn.OpPong:
			r.s.pc.gotPong()
			continue
		case ev.Op != wsconn.OpText && ev.Op != wsconn.OpBinary:
			return loopResult{ev: ev}, true
		}
		if err := r.n.decode(r.s, ev); err != nil {
			return loopResult{err: err}, true
		}
	}
}

// handOver takes r out of the loop and gives res to the session. r.mu
// is held.
func (r *pubReg) handOver(res loopResult) {
	r.unregister()
	r.back <- res
}

// unregister takes r out of the epoll set and the loop's table. r.mu is
// held.
func (r *pubReg) unregister() {
	if !r.on {
		return
	}
	r.on = false
	r.rc.Control(func(fd uintptr) { syscall.EpollCtl(r.l.epfd, syscall.EPOLL_CTL_DEL, int(fd), nil) })
	r.l.mu.Lock()
	delete(r.l.regs, r.id)
	r.l.mu.Unlock()
}

// wait puts the connection in the loop and waits for what the loop
// hands over, or for the session's end (then it takes the connection
// back, and the session reads on its own).
func (r *pubReg) wait(s *session) loopResult {
	if s.flush != nil {
		s.flush() // what the session published itself: the loop flushes only its own reads
	}
	if !r.register() {
		return loopResult{resume: true}
	}
	select {
	case res := <-r.back:
		return res
	case <-s.ctx.Done():
	}
	r.mu.Lock()
	r.unregister()
	r.mu.Unlock()
	select {
	case res := <-r.back: // handed over meanwhile
		return res
	default:
		return loopResult{resume: true}
	}
}

// register adds r to the loop's table and epoll set (level-triggered):
// false if the connection is closed.
func (r *pubReg) register() bool {
	l := r.l
	l.mu.Lock()
	l.nextID++
	if l.nextID <= 0 {
		l.nextID = 1
	}
	r.id = l.nextID
	l.regs[r.id] = r
	l.mu.Unlock()
	r.mu.Lock()
	defer r.mu.Unlock()
	r.on = true
	var cerr error
	err := r.rc.Control(func(fd uintptr) {
		ev := syscall.EpollEvent{Events: syscall.EPOLLIN | syscall.EPOLLRDHUP, Fd: r.id}
		cerr = syscall.EpollCtl(l.epfd, syscall.EPOLL_CTL_ADD, int(fd), &ev)
	})
	if err != nil || cerr != nil {
		r.unregister() // r.on is set: out of the table too
		return false
	}
	return true
}
