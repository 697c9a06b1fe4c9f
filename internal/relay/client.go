package relay

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
	"github.com/rs/zerolog"

	"github.com/wsbridge/wsbridge/internal/frame"
	"github.com/wsbridge/wsbridge/internal/wsconn"
	"github.com/wsbridge/wsbridge/internal/wsproto"
)

// batchSize is how many ring entries a writer takes per lock.
const batchSize = 64

var (
	errShutdown = errors.New("server shutting down")
	errSlow     = errors.New("client too slow")
	errGone     = errors.New("connection closed")
)

// client is one WebSocket connection: a cursor into the ring plus two
// goroutines, started by serveWS once the handshake is done (the HTTP
// handler's goroutine then returns, and net/http's request state with
// it). The writer (run) owns all data writes; the reader (readLoop)
// answers client messages and takes in pongs. The keepalive (wsconn.Flow's
// Keep: pings, and the live check that drops a client silent for two ping
// intervals) runs from a timer, with a goroutine only while a ping waits
// for its pong. Only the writer touches the cursor fields; pos and the
// counters are atomics read by /api/info.
type client struct {
	srv       *Server
	ch        *Channel
	conn      *websocket.Conn
	addr      string
	format    string
	level     uint32 // ?envelope=N: points of N sample instants instead of frames; 0 for frames
	connected time.Time
	log       clientLog
	cmdDenied *wsproto.Error // why this client may not send commands; nil if it may
	cork      *wsconn.Conn   // the connection under the WebSocket (Listen wraps every one)
	watchdog  *time.Timer    // cuts the connection when one write takes longer than --write-timeout
	timedOut  atomic.Bool

	pos    atomic.Uint64
	sent   atomic.Uint64
	flow   *wsconn.Flow // bytes in flight, acknowledged by pongs
	direct chan []byte  // error replies to this client only, sent by the writer

	// who holds the writer-only state below: the writer goroutine, or a
	// publisher writing for it while it is parked (inline.go)
	state    atomic.Int32
	wantBack atomic.Bool   // the writer woke during an inline write: signal it at the end
	wakec    chan struct{} // cap 1: wakes the parked writer
	listed   bool          // on the hub's list of parked clients (guarded by hub.pmu)

	// writer-only state
	live     uint64
	epoch    wsproto.Epoch // the epoch of the last entry sent
	next     uint32        // seq of the next frame this client expects
	floor    uint32
	hasFloor bool
	announce string // a restart status to send before the first frame or gap (see start.announce)
	pending  *batch // envelope clients: the batch whose frames were read, envelope not sent yet
	done     *batch // envelope clients: the last batch whose envelope was sent

	flushPending bool  // an inline write left bytes corked for the writer
	inlineErr    error // an inline write failed: the writer returns this
}

// entries is a writer's batch of ring entries. Writers take one from
// entriesPool for each batch rather than keeping one each: a thousand
// idle page clients do not hold a thousand of them.
type entries [batchSize]*entry

var entriesPool = sync.Pool{New: func() any { return new(entries) }}

// clientLog logs with the client's channel and address, without keeping
// a logger (and its 500-byte context buffer) per client: its events carry
// the same fields, in the same order, as a logger With() them would.
type clientLog struct {
	l             *zerolog.Logger
	channel, addr string
}

func (l clientLog) with(e *zerolog.Event) *zerolog.Event {
	return e.Str("channel", l.channel).Str("client", l.addr) // nil-safe: a disabled level
}

func (l clientLog) Debug() *zerolog.Event { return l.with(l.l.Debug()) }
func (l clientLog) Info() *zerolog.Event  { return l.with(l.l.Info()) }
func (l clientLog) Warn() *zerolog.Event  { return l.with(l.l.Warn()) }
func (l clientLog) Error() *zerolog.Event { return l.with(l.l.Error()) }

// run serves the client until it leaves, is dropped or the server stops.
func (c *client) run(st start, hello []byte) {
	ctx, cancel := context.WithCancel(c.srv.ctx)
	defer cancel()
	read := make(chan struct{})
	go func() { defer close(read); defer cancel(); c.readLoop() }()
	c.flow.Keep(c.conn, wsconn.KeepOptions{Interval: c.srv.opts.PingInterval, WriteTimeout: c.srv.opts.WriteTimeout,
		LastSign: c.lastSign, Dead: c.dead})
	err := c.writeLoop(ctx, st, hello)
	c.ch.hub.unpark(c)
	c.finish(err)
	cancel()
	c.flow.Stop()
	<-read
}

// stopReason says why the client's context ended: server shutdown, or the
// reader saw the connection end.
func (c *client) stopReason() error {
	if c.srv.ctx.Err() != nil {
		return errShutdown
	}
	return errGone
}

// finish closes the connection with the status err calls for.
func (c *client) finish(err error) {
	if c.watchdog != nil {
		c.watchdog.Stop()
	}
	c.cork.AllowIdle(false) // Close reads the client's close frame itself, and must wait for it
	c.cork.EndData()        // no message after the close frame, even a publisher's inline write
	ev := c.log.Debug()
	switch {
	case errors.Is(err, errShutdown):
		_ = c.conn.Close(websocket.StatusGoingAway, "server shutting down")
	case errors.Is(err, errSlow):
		_ = c.conn.Close(websocket.StatusPolicyViolation, "too slow: fell behind the history; reconnect with ?since=")
	default:
		ev = c.log.Info()
		_ = c.conn.CloseNow()
	}
	ev.Err(err).Uint64("messages", c.sent.Load()).Msg("client disconnected")
}

// writeLoop sends hello, the resume messages, then ring entries until
// something ends the connection.
func (c *client) writeLoop(ctx context.Context, st start, hello []byte) error {
	c.live, c.epoch, c.next = st.live, st.epoch, st.seq
	c.floor, c.hasFloor, c.announce, c.pending = st.floor, st.hasFloor, st.announce, st.pending
	c.pos.Store(st.pos)
	first := [][]byte{hello}
	for _, m := range st.pre {
		first = append(first, mustJSON(m))
	}
	if err := c.writeTexts(first); err != nil {
		return err
	}
	if st.backfill != nil {
		if err := c.writeBackfill(ctx, st.backfill); err != nil {
			return err
		}
	}
	for {
		if err := c.step(ctx); err != nil {
			if errors.Is(err, errShutdown) {
				if derr := c.drain(); derr != nil {
					return derr
				}
			}
			return err
		}
	}
}

// shutdownDrain bounds how long a client's writer keeps sending, once
// serve shuts down, what the ring held (within shutdownGrace).
const shutdownDrain = 2 * time.Second

// drain runs once serve is shutting down: it sends what the ring holds
// for this client (for at most shutdownDrain, waiting for the client's
// acknowledgements as usual), then a stopping status that names the seq
// the channel's count would send next, so a client that still missed
// something knows the exact range (serve_stopped). Envelope clients get
// the status only.
func (c *client) drain() error {
	deadline := time.Now().Add(shutdownDrain)
	for c.level == 0 && time.Now().Before(deadline) {
		if c.flow.InFlight() > wsconn.Window {
			c.flow.Request()
			select {
			case <-c.flow.Acked():
				continue
			case <-time.After(time.Until(deadline)):
			}
			break
		}
		more, err := c.drainBatch()
		if err != nil {
			return err
		}
		if !more {
			break
		}
	}
	c.srv.addUnsent(c.lag())
	sn := c.ch.hub.snapshot()
	return c.writeTexts([][]byte{mustJSON(wsproto.Status{Type: wsproto.TypeStatus, State: wsproto.StateStopping,
		Reason: "serve is shutting down", Seq: sn.Next, Epoch: sn.Epoch})})
}

// drainBatch sends the next batch of ring entries at shutdown; false
// when there is nothing more it can send.
func (c *client) drainBatch() (bool, error) {
	buf := entriesPool.Get().(*entries)
	defer entriesPool.Put(buf) // empty: writeBatch clears what it took
	pos := c.pos.Load()
	n, behind, _, _ := c.ch.hub.fetch(pos, buf[:], false)
	if behind != nil || n == 0 {
		return false, nil
	}
	return true, c.writeBatch(pos, buf[:n])
}

// step sends pending direct messages and the next batch of ring entries,
// or waits for more.
func (c *client) step(ctx context.Context) error {
	if c.flushPending {
		return c.afterInline()
	}
	if err := c.drainDirect(); err != nil {
		return err
	}
	if c.flow.InFlight() > wsconn.Window {
		return c.awaitAck(ctx)
	}
	pos := c.pos.Load()
	buf := entriesPool.Get().(*entries)
	defer entriesPool.Put(buf) // empty: writeBatch clears what it took
	var (
		n      int
		behind *entry
		base   uint64
		wait   <-chan struct{}
	)
	if c.level > 0 {
		n, behind, base, wait = c.ch.hub.fetch(pos, buf[:], true)
	} else {
		n, behind, base = c.ch.hub.next(c, pos, buf[:], true) // with nothing there, parks the client
	}
	switch {
	case behind != nil:
		if c.ch.backfill != nil && c.level == 0 && c.srv.opts.SlowClient == SlowSkip {
			return c.backfillBehind(ctx, behind, base) // a mirror: read what it missed from the bus
		}
		return c.fellBehind(behind, base)
	case n == 0 && c.level == 0: // parked: from here a publisher may write for the writer
		return c.park(ctx.Done(), c.stopReason)
	case n == 0:
		if c.pending != nil && c.pending.closed.Load() {
			return c.sendPending()
		}
		select {
		case <-wait:
		case m := <-c.direct:
			return c.writeTexts([][]byte{m})
		case <-ctx.Done():
			return c.stopReason()
		}
		return nil
	}
	if ctx.Err() != nil {
		return c.stopReason()
	}
	return c.writeBatch(pos, buf[:n])
}

// awaitAck waits until the client confirms reading (or sends nothing
// meanwhile but error replies). Waiting here, not in the kernel, is what
// lets a slow client fall behind the history and be skipped.
func (c *client) awaitAck(ctx context.Context) error {
	c.flow.Request()
	select {
	case <-c.flow.Acked():
	case m := <-c.direct:
		return c.writeTexts([][]byte{m})
	case <-ctx.Done():
		return c.stopReason()
	}
	return nil
}

func (c *client) writeBatch(pos uint64, batch []*entry) error {
	defer clear(batch) // do not keep evicted entries alive
	c.begin()
	err := c.writeEntries(pos, batch, true)
	if err == nil {
		err = c.envelopeReady()
	}
	if err != nil {
		c.end()
		return err
	}
	if err := c.end(); err != nil {
		return err
	}
	c.sentBatch(pos, len(batch))
	return nil
}

// writeEntries writes what the ring entries batch (from position pos)
// mean for the client into its corked connection; rearm re-arms the write
// timeout before each write after the first (begin armed it for the
// first), as the deadline is per write, not per batch.
func (c *client) writeEntries(pos uint64, batch []*entry, rearm bool) error {
	for i, e := range batch {
		if c.level > 0 {
			if done, err := c.envelopeEntry(e); done || err != nil {
				if err != nil {
					return err
				}
				continue
			}
		}
		if c.announce != "" && (e.kind == kindFrame || e.kind == kindGap) {
			if err := c.write(c.announcement(e), false); err != nil {
				return err
			}
		}
		msg, bin := c.render(e, pos+uint64(i))
		if len(msg) == 0 { // skipped, or a CSV frame without samples
			continue
		}
		if err := c.write(msg, bin); err != nil {
			return err
		}
		if rearm && i < len(batch)-1 {
			c.watchdog.Reset(c.srv.opts.WriteTimeout)
		}
	}
	return nil
}

// sentBatch moves the client past n entries from pos, once written.
func (c *client) sentBatch(pos uint64, n int) {
	c.pos.Store(pos + uint64(n))
	if c.flow.InFlight() > wsconn.Window/2 {
		c.flow.Request() // confirm early, so that the window keeps moving
	}
}

// begin arms the write deadline and corks the connection for a batch.
func (c *client) begin() {
	if c.watchdog == nil {
		c.watchdog = time.AfterFunc(c.srv.opts.WriteTimeout, c.writeTimedOut)
	} else {
		c.watchdog.Reset(c.srv.opts.WriteTimeout)
	}
	c.cork.Cork()
}

// end sends what the batch gathered and disarms the deadline.
func (c *client) end() error {
	err := c.cork.Uncork()
	c.watchdog.Stop()
	return c.writeErr(err)
}

func (c *client) writeTimedOut() {
	c.timedOut.Store(true)
	c.ch.stats.writeTimeouts.Add(1)
	_ = c.conn.CloseNow()
}

// render returns what entry e at position p means for this client: nil to
// skip it. It advances the client's expected seq.
func (c *client) render(e *entry, p uint64) ([]byte, bool) {
	c.epoch = e.epoch
	switch e.kind {
	case kindFrame:
		if c.hasFloor && frame.SeqBefore(e.key, c.floor) { // before the resume point
			return nil, false
		}
		c.next, c.hasFloor = e.key+1, false
		return c.ch.hub.encoded(e, c.format)
	case kindGap:
		return c.renderGap(e)
	case kindStatus:
		if e.replay { // a restart: the resume point belonged to the old count
			c.next, c.hasFloor = e.key, false
		}
	}
	if !e.replay && p < c.live {
		return nil, false
	}
	return e.raw, false
}

// announcement is the restart status a client resuming from another
// epoch gets before the first frame or gap of an epoch that had none when
// it connected.
func (c *client) announcement(e *entry) []byte {
	seq := e.key
	if e.kind == kindGap {
		seq = e.gap.From
	}
	st := wsproto.Status{Type: wsproto.TypeStatus, State: wsproto.StateRestart, Reason: c.announce, Seq: seq, Epoch: e.epoch}
	c.announce = ""
	return mustJSON(st)
}

// renderGap clips a device gap to the resume point: a client resuming
// inside it hears only about the frames it asked for.
func (c *client) renderGap(e *entry) ([]byte, bool) {
	g := *e.gap
	if c.hasFloor {
		if frame.SeqBefore(g.To, c.floor) { // wholly before the resume point
			return nil, false
		}
		if frame.SeqBefore(g.From, c.floor) {
			g.From, g.Count = c.floor, uint64(g.To-c.floor)+1
			c.next = g.To + 1
			return mustJSON(g), false
		}
	}
	c.next = g.To + 1
	return e.raw, false
}

// fellBehind handles a client whose position was evicted from the ring.
func (c *client) fellBehind(oldest *entry, base uint64) error {
	lost, from := uint64(0), c.next
	cover := oldest.key // frames: their seq; a restart marker: the new epoch's first seq
	if oldest.kind == kindGap {
		cover = oldest.gap.From
	}
	if oldest.epoch == c.epoch {
		lost = uint64(cover - from)
	}
	if c.srv.opts.SlowClient == SlowClose {
		c.ch.stats.slowCloses.Add(1)
		c.ch.stats.droppedFrames.Add(lost)
		c.log.Warn().Uint64("behind_frames", lost).Msg("slow client closed (--slow-client close): it fell further behind than the history holds")
		return errSlow
	}
	c.ch.stats.slowSkips.Add(1)
	c.ch.stats.droppedFrames.Add(lost)
	c.log.Warn().Uint32("from", from).Uint32("to", cover-1).Uint64("skipped_frames", lost).
		Msg("slow client skipped ahead: it fell further behind than the history holds")
	c.pos.Store(base)
	if c.level > 0 { // the batch holding cover may start before it: cut it there
		c.floor, c.hasFloor, c.pending = cover, true, nil
	}
	var msg any = wsproto.Gap{Type: wsproto.TypeGap, From: from, To: cover - 1, Count: lost, Reason: wsproto.GapSlowClient, Epoch: c.epoch}
	if oldest.epoch != c.epoch {
		msg = wsproto.Status{Type: wsproto.TypeStatus, State: wsproto.StateRestart,
			Reason: "the device restarted while this client was behind; frames before the restart were skipped", Seq: cover, Epoch: oldest.epoch}
	} else if lost == 0 {
		return nil
	}
	c.epoch, c.next = oldest.epoch, cover
	return c.writeTexts([][]byte{mustJSON(msg)})
}

func (c *client) drainDirect() error {
	for {
		select {
		case m := <-c.direct:
			if err := c.writeTexts([][]byte{m}); err != nil {
				return err
			}
		default:
			return nil
		}
	}
}

func (c *client) writeTexts(msgs [][]byte) error {
	c.begin()
	for _, m := range msgs {
		if err := c.write(m, false); err != nil {
			c.end()
			return err
		}
	}
	return c.end()
}

// write sends one message. Its deadline is the watchdog, re-armed before
// each write, not a context: a context per write costs a timer
// registration per frame.
func (c *client) write(msg []byte, bin bool) error {
	op := wsconn.OpText
	if bin {
		op = wsconn.OpBinary
	}
	if err := c.cork.WriteMessage(op, msg); err != nil {
		return c.writeErr(err)
	}
	c.flow.Sent(len(msg) + 10) // + the frame header, about
	c.sent.Add(1)
	c.ch.stats.messagesSent.Add(1)
	c.ch.stats.bytesSent.Add(uint64(len(msg)))
	return nil
}

func (c *client) writeErr(err error) error {
	switch {
	case err == nil:
		return nil
	case c.timedOut.Load():
		return fmt.Errorf("write did not complete within --write-timeout %v: %w", c.srv.opts.WriteTimeout, err)
	}
	return fmt.Errorf("failed to write to client: %w", err)
}

// send queues an error reply for the writer without ever blocking.
func (c *client) send(e wsproto.Error) {
	c.ch.stats.clientErrors.Add(1)
	select {
	case c.direct <- mustJSON(e):
	default:
		c.ch.stats.errorsDropped.Add(1)
	}
}

// lag is how many ring entries the client has yet to send.
func (c *client) lag() uint64 {
	_, head := c.ch.hub.bounds()
	if p := c.pos.Load(); p < head {
		return head - p
	}
	return 0
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic("relay: failed to encode message: " + err.Error())
	}
	return b
}
