package ingest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/wsbridge/wsbridge/internal/frame"
	"github.com/wsbridge/wsbridge/internal/wsconn"
)

// Hooks a channel (relay.Channel) may implement for the Network source.
type (
	// epocher names the channel's current epoch for the greeting.
	epocher interface{ Epoch() string }
	// restarter starts a new count of the channel's sequence numbers: the
	// device rebooted (its boot changed), whatever seq its frames carry.
	restarter interface{ Restart(reason string) }
	// holder writes the frames of a burst to the channel's clients
	// together: Hold, then Flush whenever the session is about to read
	// from its connection (it has published everything read before).
	holder interface {
		Hold(on bool)
		Flush()
	}
)

var errNoPong = errors.New("no answer to pings")

// run is one publisher session: greeting, then messages until it ends.
func (n *Network) run(s *session) {
	defer s.cancel(nil)
	g := n.start(s)
	n.stats.connections.Add(1)
	log := n.opts.Log.With().Str("device", s.addr).Str("boot", s.boot).Logger()
	b, _ := json.Marshal(g)
	if err := s.pc.text(b); err != nil {
		n.end(s, fmt.Sprintf("device connection lost before the greeting went out: %v", err))
		return
	}
	ev := log.Info().Str("epoch", g.Epoch)
	if g.LastSeq != nil {
		ev = ev.Uint32("last_seq", *g.LastSeq)
	}
	ev.Msg("device connected to /pub")
	// One closure for the session rather than one per message (each
	// would be an allocation: it captures the message's kind).
	s.emit = func(p *frame.Packet) {
		if s.binary && p.Type == frame.TypeData {
			n.last, n.have = p.Frame.Seq, true
		}
		n.pub.Packet(p)
	}
	if !n.noLoop.Load() {
		s.reg = newPubReg(n, s)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); n.pinger(s) }()
	reason := n.read(s)
	s.cancel(nil)
	wg.Wait()
	log.Info().Str("reason", reason).Msg("device disconnected from /pub")
	n.end(s, reason)
}

// start records the session's boot and makes its greeting; a new boot is
// a restart of the device's count.
func (n *Network) start(s *session) Greeting {
	n.mu.Lock()
	defer n.mu.Unlock()
	if s.boot != n.boot {
		if n.have {
			if r, ok := n.pub.(restarter); ok {
				r.Restart(fmt.Sprintf("the device rebooted (boot %s, was %s)", s.boot, n.boot))
			}
		}
		n.boot, n.have = s.boot, false
	}
	n.dec.Reset()
	g := Greeting{Type: "hello", Protocol: 1, Server: n.opts.Server, Role: RolePublisher, Channel: n.opts.Channel,
		Boot: s.boot, Commands: n.opts.Commands}
	if n.opts.Epoch != nil {
		g.Epoch = n.opts.Epoch()
	} else if e, ok := n.pub.(epocher); ok {
		g.Epoch = e.Epoch()
	}
	if n.have {
		last := n.last
		g.LastSeq = &last
	}
	n.pub.Up("device connected from " + hostOf(s.addr))
	return g
}

// end reports the device down unless a newer session took over.
func (n *Network) end(s *session, reason string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.cur == s {
		n.cur = nil
		n.pub.Down(reason)
	}
}

// read decodes messages until the connection ends or one is refused, and
// returns why it ended. Before each read from the connection, the
// channel's held writes go out (holder). Where a pubLoop can read the
// connection, the session's goroutine waits while the loop decodes, and
// takes over for what the loop hands it (pings, close frames, errors).
func (n *Network) read(s *session) string {
	if h, ok := n.pub.(holder); ok {
		h.Hold(true)
		defer h.Hold(false)
		s.flush = h.Flush
	}
	for {
		ev, err := n.nextEvent(s)
		if why, end := n.handle(s, ev, err); end {
			return why
		}
	}
}

// nextEvent returns the session's next event: from its loop when it has
// one and nothing is buffered, else from its own reads.
func (n *Network) nextEvent(s *session) (wsEvent, error) {
	if s.reg != nil && s.pc.idle() {
		if res := s.reg.wait(s); !res.resume {
			return res.ev, res.err
		}
	}
	return s.pc.next(s.flush)
}

// handle acts on one event or read error; end reports that the session
// is over, and why.
func (n *Network) handle(s *session, ev wsEvent, err error) (why string, end bool) {
	if err == nil {
		switch ev.Op {
		case wsconn.OpPing:
			s.pc.pong(ev.Data)
		case wsconn.OpPong:
			s.pc.gotPong()
		case wsconn.OpClose:
			return n.peerClosed(s, ev.Data), true
		case wsconn.OpText, wsconn.OpBinary:
			err = n.decode(s, ev)
		}
	}
	switch {
	case err == nil:
		return "", false
	case err == errReplaced:
		return errReplaced.Error(), true
	}
	return n.readEnd(s, err), true
}

// decode hands one data message to the decoder: errReplaced when a newer
// session took over, a *MessageError when it is refused.
func (n *Network) decode(s *session, ev wsEvent) error {
	s.binary = ev.Op == wsconn.OpBinary
	n.mu.Lock()
	if n.cur != s {
		n.mu.Unlock()
		return errReplaced
	}
	err := n.dec.Decode(s.binary, ev.Data, s.emit) // under n.mu, as n.last is
	n.mu.Unlock()
	if err != nil { // declared here, me costs an allocation only for a refused message
		var me *MessageError
		if errors.As(err, &me) {
			return me
		}
	}
	return nil
}

// peerClosed answers the device's close frame (payload p) with its code
// and says why the session ended.
func (n *Network) peerClosed(s *session, p []byte) string {
	code, _, me := parseClose(p)
	if me != nil {
		n.refuse(s, me)
		return me.Reason + ": " + me.Msg
	}
	s.pc.wr.writeClose(code, "", closeWait) // fails harmlessly when serve sent its own first
	if why := stopCause(s); why != "" {
		return why
	}
	return fmt.Sprintf("the device closed the connection (%d)", code)
}

// stopCause says why serve ended the session, "" if it did not.
func stopCause(s *session) string {
	switch cause := context.Cause(s.ctx); {
	case errors.Is(cause, errNoPong), errors.Is(cause, errReplaced):
		return cause.Error()
	case s.ctx.Err() != nil:
		return "serve is shutting down"
	}
	return ""
}

// readEnd says why a read failed: serve ended the session, the frames
// broke the protocol or were too big (refused), or the connection broke.
func (n *Network) readEnd(s *session, err error) string {
	if why := stopCause(s); why != "" {
		return why
	}
	var me *MessageError
	if errors.As(err, &me) {
		n.refuse(s, me)
		return me.Reason + ": " + me.Msg
	}
	if errors.Is(err, io.EOF) {
		return "connection lost: the device's end closed without a close frame"
	}
	return "connection lost: " + err.Error()
}

// refuse closes the session for a message the decoder or the frame
// parser refused.
func (n *Network) refuse(s *session, me *MessageError) {
	n.refusedCount(me.Reason).Add(1)
	n.logs.do("refused:"+me.Reason, func(suppressed int) {
		n.opts.Log.Warn().Str("device", s.addr).Str("reason", me.Reason).
			Int("suppressed", suppressed).Msg("device message refused, connection closed: " + me.Msg)
	})
	s.pc.closeAndDrain(uint16(me.Code), me.CloseReason()) // the device is alive: it gets the reason
}

// pinger pings the publisher every PingInterval; without a pong within
// the next interval it cuts the connection.
func (n *Network) pinger(s *session) {
	t := time.NewTicker(n.opts.PingInterval)
	defer t.Stop()
	for {
		select {
		case <-s.ctx.Done():
			return
		case <-t.C:
		}
		ctx, cancel := context.WithTimeout(s.ctx, n.opts.PingInterval)
		err := s.pc.ping(ctx)
		cancel()
		if err != nil && s.ctx.Err() == nil {
			n.stats.noPong.Add(1)
			s.cancel(errNoPong)
			s.pc.cut() // it reads nothing: a close frame would not be read either
			return
		}
	}
}

// limiter lets a log line through at most once per period per key and
// counts what it held back.
type limiter struct {
	mu   sync.Mutex
	last map[string]time.Time
	held map[string]int
}

const logEvery = 10 * time.Second

func (l *limiter) do(key string, f func(suppressed int)) {
	l.mu.Lock()
	if l.last == nil {
		l.last, l.held = map[string]time.Time{}, map[string]int{}
	}
	now := time.Now()
	if t, ok := l.last[key]; ok && now.Sub(t) < logEvery {
		l.held[key]++
		l.mu.Unlock()
		return
	}
	n := l.held[key]
	l.last[key], l.held[key] = now, 0
	l.mu.Unlock()
	f(n)
}
