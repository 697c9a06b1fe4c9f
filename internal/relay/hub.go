package relay

import (
	"cmp"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"github.com/wsbridge/wsbridge/internal/frame"
	"github.com/wsbridge/wsbridge/internal/wsproto"
)

// hub is the fan-out: the producer publishes into the history ring, each
// client's writer reads from it at its own position. Publishing never
// waits for a client: it takes the mutex for a few pointer writes and
// wakes the writers parked on it (full-rate clients: the parked list,
// some of them written to inline, see inline.go; envelope clients and the
// bus's readers: by closing a channel).
type hub struct {
	maxDur, maxBytes int64
	log              zerolog.Logger
	stats            *channelStats

	mu          sync.RWMutex // writers read the ring under RLock; publishing takes Lock
	ring        ring
	frames      int           // data frames held in the ring
	wake        chan struct{} // closed and replaced when entries arrive and a writer waits
	waiting     atomic.Bool   // a writer took wake (set under RLock, cleared under Lock)
	pmu         sync.Mutex    // guards parked and the clients' listed (taken under mu, or alone)
	parked      []*client     // full-rate clients waiting for entries (next), woken by the next push
	inlining    bool          // publishFrame is pushing: parked clients go to woken (under mu)
	holding     bool          // Hold: woken clients wait for flush
	held        atomic.Bool   // holding with clients in woken: flush has writes to make (stored under mu)
	lastFrame   time.Time     // when publishFrame last ran
	inlineGap   time.Duration // inlineGap; tests set 0
	woken       [inlineMax]*client
	nwoken      int
	ewake       chan struct{} // wake for envelope clients: closed by what they send, not by frames
	ewaiting    atomic.Bool
	env         batcher      // the batch being filled for envelope clients
	size        atomic.Int64 // ring.size(), stored under Lock: read by writers without it
	rendered    atomic.Int64 // bytes of the JSON and CSV renderings cached in held entries
	name        string       // the channel's name, in hello
	seq         frame.SeqTracker
	seen        seen                // which of the last 1024 seqs were published
	limits      map[string]*limiter // rate limits of the sequence warnings, by kind
	epoch       wsproto.Epoch       // the current count: new at start and on each device restart
	epochPos    uint64              // ring position where the current epoch starts
	restartNext string              // set by Restart: the next frame begins a new epoch, for this reason
	first       uint32              // first seq of the current epoch (once a frame came)
	epochN      int                 // data frames of the current epoch held in the ring
	epochDur    int64               // their sample time, ns
	state       string              // wsproto.StateUp / StateDown, "" before anything is known
	reason      string
	device      *wsproto.Device
	last        frame.Frame // header of the newest frame (Data nil)
	slab        slab        // where the frames' entries and copies come from
}

func newHub(name string, history time.Duration, historyBytes int64, log zerolog.Logger, st *channelStats) *hub {
	return &hub{name: name, maxDur: int64(history), maxBytes: historyBytes, log: log, stats: st,
		wake: make(chan struct{}), ewake: make(chan struct{}), env: batcher{interval: envelopeInterval}, epoch: newEpoch(),
		inlineGap: inlineGap,
		limits:    map[string]*limiter{"gap": {}, "duplicate": {}, "late": {}, "restart": {}}}
}

// pushLocked appends e (the caller holds the lock), trims the ring and wakes waiting writers.
func (h *hub) pushLocked(e *entry) {
	_, e.firstOK = h.seq.Next()
	e.first = h.first
	h.ring.push(e)
	if e.kind == kindFrame {
		h.frames++
		h.epochN++
		h.epochDur += e.dur
	}
	for h.ring.len() > 1 && (h.ring.dur > h.maxDur || h.overLocked()) {
		h.popLocked()
	}
	h.size.Store(h.ring.size())
	if h.waiting.Swap(false) {
		close(h.wake)
		h.wake = make(chan struct{})
	}
	h.wakeParkedLocked()
	if e.kind != kindFrame {
		h.wakeEnvelopeLocked()
	}
}

// overLocked reports whether what the ring holds, renderings included,
// is over --history-bytes.
func (h *hub) overLocked() bool { return h.ring.size()+h.rendered.Load() > h.maxBytes }

// popLocked evicts the oldest entry and drops its renderings: entries
// share slab blocks, so the entry itself lives on while later frames of
// its block are held, and its renderings with it unless let go here (a
// writer still sending it renders it again, uncounted).
func (h *hub) popLocked() {
	old := h.ring.pop()
	h.rendered.Add(-old.extra.Swap(-1))
	old.json.Store(nil)
	old.csv.Store(nil)
	if old.kind == kindFrame {
		h.frames--
		if old.epoch == h.epoch {
			h.epochN--
			h.epochDur -= old.dur
		}
	}
}

// addRendering counts n bytes of a rendering just cached in e, unless e
// has left the ring (then it is garbage as soon as the writers holding it
// let go), and trims the ring if that takes it over --history-bytes.
func (h *hub) addRendering(e *entry, n int64) {
	for {
		v := e.extra.Load()
		if v < 0 {
			return
		}
		if e.extra.CompareAndSwap(v, v+n) {
			break
		}
	}
	if h.rendered.Add(n)+h.size.Load() <= h.maxBytes {
		return
	}
	h.mu.Lock()
	for h.ring.len() > 1 && h.overLocked() {
		h.popLocked()
	}
	h.size.Store(h.ring.size())
	h.mu.Unlock()
}

// publishFrame adds a data frame, with a device gap or restart marker
// before it when its sequence number says so. A frame behind the count
// (a duplicate, or late: after its gap was reported) is counted, logged
// and dropped: clients have been told about that seq already.
func (h *hub) publishFrame(p *frame.Packet) {
	e := h.slab.frameEntry(p) // outside the lock: the copy is the costly part
	h.mu.Lock()
	now := time.Now()
	h.startInlineLocked(now)
	h.publishFrameLocked(p, e, now)
	h.unlockInline()
}

// startInlineLocked begins a publish of a frame at now (the caller holds
// the lock): its caught-up clients get it inline unless it came within
// inlineGap of the channel's previous frame (then the writers batch).
func (h *hub) startInlineLocked(now time.Time) {
	h.inlining = now.Sub(h.lastFrame) >= h.inlineGap
	h.lastFrame = now
}

// unlockInline ends a publish that began with h.mu locked and
// startInlineLocked: it unlocks, then writes for the caught-up clients
// the publish woke (inline.go).
func (h *hub) unlockInline() {
	h.inlining = false
	if h.holding {
		h.held.Store(h.nwoken > 0)
		h.mu.Unlock()
		return
	}
	h.deliver()
}

// deliver writes, once the caller has let go of the lock it holds, to
// the clients woken for inline writes (inline.go).
func (h *hub) deliver() {
	woken, n := h.woken, h.nwoken
	h.woken, h.nwoken = [inlineMax]*client{}, 0
	h.held.Store(false)
	h.mu.Unlock()
	for _, c := range woken[:n] {
		if !c.inline() {
			c.signal()
		}
	}
}

// hold sets Channel.Hold's mode; off, it flushes.
func (h *hub) hold(on bool) {
	h.mu.Lock()
	h.holding = on
	h.deliver()
}

// flush writes what publishFrame held (Channel.Flush). A source flushes
// before each read, most of them after no publish that held anything:
// those take no lock. held is the producer's own store (unlockInline),
// so it sees what it held itself.
func (h *hub) flush() {
	if !h.held.Load() {
		return
	}
	h.mu.Lock()
	h.deliver()
}

func (h *hub) publishFrameLocked(p *frame.Packet, e *entry, now time.Time) {
	if !h.sequenceLocked(p.Frame.Seq, now) {
		return
	}
	h.appendFrameLocked(e, &p.Frame, now)
}

// appendFrameLocked adds data frame e (header f) to the current epoch:
// the channel is up, f is the newest frame, the envelope batch and the
// ring take it. The origin's publishFrame and a mirror's Apply share it;
// now is the publish's time.
func (h *hub) appendFrameLocked(e *entry, f *frame.Frame, now time.Time) {
	if h.state == "" {
		h.state = wsproto.StateUp
	}
	e.epoch = h.epoch
	h.last = *f
	h.last.Data = nil
	h.stats.frames.Add(1)
	h.stats.frameBytes.Add(uint64(len(e.raw)))
	h.batchLocked(e, now)
	h.pushLocked(e)
	h.batchTimeLocked(now)
}

// sequenceLocked is the one place serve classifies a device's sequence
// numbers: it pushes the gap or restart marker seq calls for, counts and
// logs (at most once a second per kind) what is not in order, and
// reports whether the frame is to be published.
func (h *hub) sequenceLocked(seq uint32, now time.Time) bool {
	next, started := h.seq.Next()
	ev := h.seq.Observe(seq)
	if h.restartNext != "" && started {
		// The source knows the device started over (a Wi-Fi board
		// reconnected with a new boot id): a new count whatever seq says.
		h.seq.Expect(seq + 1)
		ev = frame.SeqEvent{Kind: frame.SeqRestart, Seq: seq}
	}
	restartReason := cmp.Or(h.restartNext, "the device restarted its sequence numbers")
	h.restartNext = ""
	switch ev.Kind {
	case frame.SeqDuplicate:
		kind, ctr := "duplicate", &h.stats.duplicates
		if !h.seen.has(seq) {
			kind, ctr = "late", &h.stats.late
		}
		ctr.Add(1)
		if ok, n := h.limits[kind].allow(now); ok {
			h.log.Warn().Str("epoch", h.epoch).Uint32("seq", seq).Uint32("expected", next).Uint64("suppressed", n).
				Msg(behindText[kind])
		}
		return false
	case frame.SeqGap:
		h.breakLocked()
		h.stats.deviceGaps.Add(1)
		h.stats.deviceGapFrames.Add(uint64(ev.Lost))
		h.seen.clear(ev.From, ev.To)
		if ok, n := h.limits["gap"].allow(now); ok {
			h.log.Warn().Str("epoch", h.epoch).Uint32("from", ev.From).Uint32("to", ev.To).Uint32("lost", ev.Lost).
				Uint64("suppressed", n).Msg("frames lost between the device and serve")
		}
		h.pushLocked(newGapEntry(ev.From, ev.To, h.epoch))
	case frame.SeqRestart:
		h.breakLocked()
		h.stats.restarts.Add(1)
		old := h.epoch
		h.epoch, h.epochN, h.epochDur = newEpoch(), 0, 0
		h.epochPos, h.first = h.ring.head, ev.Seq
		h.seen.reset()
		if ok, n := h.limits["restart"].allow(now); ok {
			h.log.Info().Str("old_epoch", old).Uint32("old_next", next).Str("epoch", h.epoch).Uint32("seq", ev.Seq).
				Uint64("suppressed", n).Msg("device restarted its sequence numbers: new epoch")
		}
		st := wsproto.Status{Type: wsproto.TypeStatus, State: wsproto.StateRestart,
			Reason: restartReason, Seq: ev.Seq, Epoch: h.epoch}
		h.pushLocked(newMessageEntry(kindStatus, st, h.epoch, ev.Seq, true))
	case frame.SeqFirst:
		h.epochPos, h.first = h.ring.head, ev.Seq
	}
	h.seen.set(seq)
	return true
}

// behindText is the log message for a frame behind the count, by kind.
var behindText = map[string]string{
	"duplicate": "duplicate frame dropped: this seq was published already",
	"late":      "late frame dropped: it arrived after its gap was reported",
}

// publishMessage adds a live-only JSON message (info, log, reply, status).
func (h *hub) publishMessage(k kind, msg any) {
	h.mu.Lock()
	defer h.mu.Unlock()
	next, _ := h.seq.Next()
	h.pushLocked(newMessageEntry(k, msg, h.epoch, next, false))
}

// setInfo records the device description and announces it.
func (h *hub) setInfo(in *frame.DeviceInfo) {
	d := wsproto.DeviceFromInfo(in)
	h.mu.Lock()
	h.device = &d
	h.mu.Unlock()
	h.publishMessage(kindText, wsproto.Info{Type: wsproto.TypeInfo, Device: d})
}

// setState records a device state change and announces it if it changed.
func (h *hub) setState(state, reason string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	changed := h.state != state
	h.state, h.reason = state, reason
	if changed {
		h.closeBatchLocked()
		next, _ := h.seq.Next()
		st := wsproto.Status{Type: wsproto.TypeStatus, State: state, Reason: reason, Seq: next}
		h.pushLocked(newMessageEntry(kindStatus, st, h.epoch, next, false))
	}
}

// fetch copies the entries from pos into dst. If pos has been evicted it
// returns behind=true and the oldest entry with its position. If nothing
// is there yet it returns a channel that is closed when something arrives:
// for an envelope client (env), something else than a frame.
func (h *hub) fetch(pos uint64, dst []*entry, env bool) (n int, behind *entry, base uint64, wait <-chan struct{}) {
	h.mu.RLock()
	defer h.mu.RUnlock()
	if n, behind, base = h.copyLocked(pos, dst); behind != nil {
		return 0, behind, base, nil
	}
	switch {
	case n > 0:
	case env:
		h.ewaiting.Store(true)
		wait = h.ewake
	default:
		h.waiting.Store(true)
		wait = h.wake
	}
	return n, nil, 0, wait
}

// next copies the entries from pos into dst for full-rate client c, as
// fetch does. With nothing there yet it puts c on the hub's list of
// parked clients, which the next push wakes or writes to (inline.go),
// and with park (the writer's own call) marks c's writer parked.
func (h *hub) next(c *client, pos uint64, dst []*entry, park bool) (n int, behind *entry, base uint64) {
	h.mu.RLock()
	defer h.mu.RUnlock()
	if n, behind, base = h.copyLocked(pos, dst); n == 0 && behind == nil {
		h.pmu.Lock()
		if !c.listed {
			c.listed = true
			h.parked = append(h.parked, c)
		}
		if park {
			c.state.Store(writerParked)
		}
		h.pmu.Unlock()
	}
	return n, behind, base
}

// copyLocked copies the entries from pos into dst (the caller holds a
// lock); if pos has been evicted it returns the oldest entry and its
// position instead.
func (h *hub) copyLocked(pos uint64, dst []*entry) (n int, behind *entry, base uint64) {
	if pos < h.ring.base {
		return 0, h.ring.at(h.ring.base), h.ring.base
	}
	for n < len(dst) && pos+uint64(n) < h.ring.head {
		dst[n] = h.ring.at(pos + uint64(n))
		n++
	}
	return n, nil, 0
}

// wakeParkedLocked takes the parked clients off the list (the caller
// holds the lock): during publishFrame up to inlineMax of them go to
// woken, for it to write to once it lets go of the lock; the others'
// writers are woken.
func (h *hub) wakeParkedLocked() {
	h.pmu.Lock()
	defer h.pmu.Unlock()
	for i, c := range h.parked {
		c.listed = false
		h.parked[i] = nil
		if h.inlining && h.nwoken < inlineMax {
			h.woken[h.nwoken] = c
			h.nwoken++
			continue
		}
		c.signal()
	}
	h.parked = h.parked[:0]
}

// unpark takes a client whose writer ended off the list.
func (h *hub) unpark(c *client) {
	h.pmu.Lock()
	defer h.pmu.Unlock()
	if c.listed {
		c.listed = false
		h.parked = slices.DeleteFunc(h.parked, func(p *client) bool { return p == c })
	}
}

// bounds returns the ring's oldest and next positions.
func (h *hub) bounds() (base, head uint64) {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return h.ring.base, h.ring.head
}

// historyLocked describes the frames of the current epoch the ring holds
// (what a resume can replay); the caller holds the lock.
func (h *hub) historyLocked() wsproto.History {
	hs := wsproto.History{Frames: h.epochN, Epoch: h.epoch, SpanMS: h.epochDur / int64(time.Millisecond)}
	if h.epochN == 0 {
		return hs
	}
	for p := max(h.ring.base, h.epochPos); p < h.ring.head; p++ {
		if e := h.ring.at(p); e.kind == kindFrame {
			hs.FirstSeq = e.key
			break
		}
	}
	hs.LastSeq = h.last.Seq
	return hs
}

// snapshot is the device view reported by hello, /healthz and /api/info.
type snapshot struct {
	Channel    string
	Epoch      wsproto.Epoch
	State      string
	Reason     string
	Device     *wsproto.Device
	Rate       uint32
	Channels   int
	SampleType string
	Next       uint32
	History    wsproto.History // of the current epoch
	RingBytes  int64           // memory the history holds, as --history-bytes counts it
	Frames     int             // data frames held, every epoch
}

func (h *hub) snapshotLocked() snapshot {
	s := snapshot{Channel: h.name, Epoch: h.epoch, State: h.state, Reason: h.reason,
		History: h.historyLocked(), RingBytes: h.ring.size() + h.rendered.Load(), Frames: h.frames}
	if s.State == "" {
		s.State = wsproto.StateDown
	}
	s.Next, _ = h.seq.Next()
	if h.device != nil {
		d := *h.device
		s.Device, s.Rate, s.Channels, s.SampleType = &d, d.Rate, d.Channels, d.SampleType
	}
	if h.last.Channels != 0 {
		s.Rate, s.Channels, s.SampleType = h.last.Rate, int(h.last.Channels), h.last.SampleType.String()
	}
	return s
}

func (h *hub) snapshot() snapshot { // read only: /api/info and /healthz must not hold off the producer
	h.mu.RLock()
	defer h.mu.RUnlock()
	return h.snapshotLocked()
}
