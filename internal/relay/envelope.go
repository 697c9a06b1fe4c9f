package relay

// Envelope streams (?envelope=N): the min and max of every N sample
// instants per channel, what a page draws anyway, instead of the samples.
//
// The producer cuts a channel's frames into batches of whole consecutive
// frames (about 30 a second, see batcher); each frame entry points to its
// batch. An envelope client reads the ring like any client, but for the
// frames of a batch it sends one envelope once the batch is closed: the
// envelope of a level N is computed on the first request for that level,
// once, and cached in the batch next to its JSON rendering, like a frame's
// renderings, so every client of a level shares it; its memory counts
// against --history-bytes (on the batch's last frame) while that frame is
// held. Gaps, statuses and messages are the ring's own entries, so an
// envelope client gets them where a full-rate one does, and resumes the
// same way. The ring holds no entry of its own for batches: positions
// mean the same for every reader (the bus's ReadEvents too).
//
// Points sit on a grid of N instants that starts with each segment: the
// first frame of an epoch, and the first after a device gap or a change of
// rate, channels or sample type. So the envelope of a batch has partial
// points only where it starts or ends inside a grid point, and a resume
// point inside a batch (a client that asked for frames from its middle)
// gets the envelope of the rest of that batch computed for it alone: the
// only per-client computation, once per connection or slow-client skip.

import (
	"fmt"
	"math/bits"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/wsbridge/wsbridge/internal/frame"
)

// Envelope levels a client may ask for with ?envelope=N: powers of two.
// Below 4, an envelope carries as many values as the samples themselves.
const (
	MinEnvelope = 4
	MaxEnvelope = 1 << 16
)

// Batching: a batch closes at the first frame at least envelopeInterval
// after the previous close (about 30 envelopes a second, what a screen
// redraws), at the latest 2*envelopeInterval after its first frame if no
// more frames come, before every device gap, restart, state change and
// change of rate, channels or sample type, and before it would hold more
// than batchMaxBytes of samples (so its envelope at any level fits in one
// packet: at most half the samples' bytes plus two points) or batchMaxFrames frames.
const (
	envelopeInterval = time.Second / 30
	batchMaxBytes    = 64 << 10
	batchMaxFrames   = 1024
)

// parseEnvelope reads ?envelope=N: 0 for a full-rate stream.
func parseEnvelope(q url.Values, format string) (uint32, error) {
	if !q.Has("envelope") {
		return 0, nil
	}
	s := q.Get("envelope")
	v, err := strconv.ParseUint(s, 10, 32)
	if err != nil || v < MinEnvelope || v > MaxEnvelope || v&(v-1) != 0 {
		hint := ""
		if err == nil && v >= MinEnvelope && v <= MaxEnvelope {
			lo := uint64(1) << (bits.Len64(v) - 1)
			hint = fmt.Sprintf(" (%d or %d)", lo, 2*lo)
		}
		return 0, fmt.Errorf("bad envelope=%s: want sample instants per point, a power of two from %d to %d%s; leave it out for every sample",
			s, MinEnvelope, MaxEnvelope, hint)
	}
	if format == FormatCSV {
		return 0, fmt.Errorf("envelope=%s comes as format=binary or format=json (an envelope point is a min and a max, with coverage csv cannot carry); leave envelope out for csv samples", s)
	}
	return uint32(v), nil
}

// batch is the run of frames one envelope covers: whole frames with
// consecutive seqs, of one epoch, one segment and one format. The
// producer fills it under the hub's lock; once closed, its frames never
// change and clients read it without the lock.
type batch struct {
	frames   []*entry  // oldest first; held as long as the batch is
	segStart uint64    // grid position of the first sample: instants since the segment began
	bytes    int       // sample bytes of the frames
	opened   time.Time // when the first frame came
	closed   atomic.Bool

	mu     sync.Mutex                  // serialises computing a level
	levels atomic.Pointer[[]*envLevel] // computed levels, copy on write
}

// envLevel is a batch's envelope at one level: the packet, and its JSON
// rendering once a JSON client asked.
type envLevel struct {
	n    uint32
	bin  []byte
	json atomic.Pointer[[]byte]
}

// Memory of a batch besides its frames, and of each computed level
// besides its packet.
var (
	batchMemory  = (int64(unsafe.Sizeof(batch{})) + 15) &^ 15
	envLevelSize = (int64(unsafe.Sizeof(envLevel{})) + 15) &^ 15
)

// first and last are the seqs of the batch's first and last frames.
func (b *batch) first() uint32 { return b.frames[0].key }
func (b *batch) last() uint32  { return b.frames[len(b.frames)-1].key }

// level returns the computed level n, or nil.
func (b *batch) level(n uint32) *envLevel {
	if ls := b.levels.Load(); ls != nil {
		for _, l := range *ls {
			if l.n == n {
				return l
			}
		}
	}
	return nil
}

// appendEnvelope computes the envelope at level n of the batch's frames
// from index skip on.
func (b *batch) appendEnvelope(dst []byte, n uint32, skip int) ([]byte, error) {
	pos := b.segStart
	for _, e := range b.frames[:skip] {
		pos += uint64(e.frame.Count)
	}
	return frame.AppendEnvelopeOf(dst, n, uint32(pos%uint64(n)), func(yield func(*frame.Frame) bool) {
		for _, e := range b.frames[skip:] {
			if !yield(&e.frame) {
				return
			}
		}
	})
}

// segFormat is what must not change inside a segment.
type segFormat struct {
	rate       uint32
	channels   uint8
	sampleType frame.SampleType
}

// batcher is the producer's side: the batch being filled and the grid.
// The hub's mutex guards it, except timer, set once.
type batcher struct {
	interval  time.Duration // envelopeInterval; tests shorten or lengthen it
	cur       *batch        // nil when no frame waits
	seg       uint64        // grid position of the next sample
	format    segFormat     // of the segment's frames with samples
	hasFormat bool
	lastClose time.Time
	timer     *time.Timer // closes a batch whose frames stopped coming
	clients   int         // envelope clients connected: without any, no timer is armed
}

// batchLocked runs before frame entry e is pushed: a change of format
// ends the segment, a batch that e would take over batchMaxBytes or
// batchMaxFrames closes, and e joins the batch being filled (a new one if
// none is); now is the publish's time.
func (h *hub) batchLocked(e *entry, now time.Time) {
	bt, f := &h.env, &e.frame
	if f.Count > 0 {
		fm := segFormat{f.Rate, f.Channels, f.SampleType}
		if bt.hasFormat && fm != bt.format {
			h.breakLocked()
		}
		bt.format, bt.hasFormat = fm, true
	}
	b := bt.cur
	if b != nil && (b.bytes+len(f.Data) > batchMaxBytes || len(b.frames) >= batchMaxFrames) {
		h.closeBatchAtLocked(now)
		b = nil
	}
	if b == nil {
		b = &batch{segStart: bt.seg, opened: now, frames: make([]*entry, 0, 8)}
		bt.cur = b
		if bt.clients > 0 {
			h.armBatchTimer()
		}
	}
	b.frames = append(b.frames, e)
	b.bytes += len(f.Data)
	bt.seg += uint64(f.Count)
	e.batch = b
}

// batchTimeLocked runs after a frame was pushed: the batch closes if
// envelopeInterval has passed since the last close, as of now.
func (h *hub) batchTimeLocked(now time.Time) {
	if h.env.cur != nil && now.Sub(h.env.lastClose) >= h.env.interval {
		h.closeBatchAtLocked(now)
	}
}

// breakLocked ends the segment: the batch closes and the grid starts over
// with the next frame. Device gaps and restarts call it before their
// entry, so an envelope never spans one.
func (h *hub) breakLocked() {
	h.closeBatchLocked()
	h.env.seg, h.env.hasFormat = 0, false
}

// closeBatchLocked closes the batch being filled and wakes the envelope
// clients waiting for it. Nothing is computed here: levels are computed
// when a client asks. The batch's own memory counts from now on with its
// last frame.
func (h *hub) closeBatchLocked() { h.closeBatchAtLocked(time.Now()) }

// closeBatchAtLocked is closeBatchLocked at time now (a publish's: one
// clock reading per frame).
func (h *hub) closeBatchAtLocked(now time.Time) {
	b := h.env.cur
	if b == nil {
		return
	}
	h.env.cur = nil
	h.env.lastClose = now
	b.closed.Store(true)
	h.stats.envBatches.Add(1)
	last := b.frames[len(b.frames)-1]
	if n := batchMemory + 8*int64(cap(b.frames)); last.extra.Load() >= 0 {
		last.extra.Add(n) // evictions take the lock, which the producer holds
		h.rendered.Add(n)
		for h.ring.len() > 1 && h.overLocked() {
			h.popLocked()
		}
		h.size.Store(h.ring.size())
	}
	h.wakeEnvelopeLocked()
}

// wakeEnvelopeLocked wakes the envelope clients waiting for an entry or a
// closed batch.
func (h *hub) wakeEnvelopeLocked() {
	if h.ewaiting.Swap(false) {
		close(h.ewake)
		h.ewake = make(chan struct{})
	}
}

// armBatchTimer makes sure a batch whose frames stop coming (the device
// paused, or sends rarely) is closed 2*interval after it opened. Only
// while envelope clients are connected: resetting a timer can wake the
// runtime's sleeping poller thread, a context switch per batch that a
// channel with only full-rate clients should not pay (measured: about 0.5
// per frame at 48 kHz). A batch left open meanwhile is closed by the next
// frame, gap or status, or by the timer armed when an envelope client
// comes.
func (h *hub) armBatchTimer() {
	d := 2 * h.env.interval
	if h.env.timer == nil {
		h.env.timer = time.AfterFunc(d, h.batchTimeout)
		return
	}
	h.env.timer.Reset(d)
}

func (h *hub) batchTimeout() {
	h.mu.Lock()
	defer h.mu.Unlock()
	b := h.env.cur
	if b == nil {
		return
	}
	if left := 2*h.env.interval - time.Since(b.opened); left > 0 {
		h.env.timer.Reset(left) // a newer batch than the one the timer was armed for
		return
	}
	h.closeBatchLocked()
}

// envelope returns closed batch b's envelope at level n in format fm
// (binary or JSON), computing it on the first request for that level:
// once per batch and level, whichever client asks first. nil if it cannot
// be computed (logged: it would be a bug).
func (h *hub) envelope(b *batch, n uint32, fm string) []byte {
	lv := h.envLevel(b, n)
	if lv == nil {
		return nil
	}
	if fm != FormatJSON {
		return lv.bin
	}
	last := b.frames[len(b.frames)-1]
	return h.cached(last, &lv.json, func(dst []byte) []byte { return envelopeJSON(dst, lv.bin, last.epoch) })
}

func (h *hub) envLevel(b *batch, n uint32) *envLevel {
	if lv := b.level(n); lv != nil {
		return lv
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if lv := b.level(n); lv != nil {
		return lv
	}
	bin, err := b.appendEnvelope(nil, n, 0)
	if err != nil {
		h.log.Error().Err(err).Uint32("envelope", n).Uint32("seq", b.first()).Uint32("last_seq", b.last()).
			Msg("envelope not computed: its clients see the frames as a gap")
		return nil
	}
	h.stats.envComputed.Add(1)
	lv := &envLevel{n: n, bin: bin}
	var ls []*envLevel
	if old := b.levels.Load(); old != nil {
		ls = append(ls, *old...)
	}
	ls = append(ls, lv)
	b.levels.Store(&ls)
	h.addRendering(b.frames[len(b.frames)-1], int64(cap(bin))+envLevelSize+8)
	return lv
}

// envelopeJSON renders an envelope packet bin as its JSON message.
func envelopeJSON(dst, bin []byte, epoch string) []byte {
	var env frame.Envelope
	if err := frame.ParseEnvelope(&env, bin); err != nil { // serve's own packet
		panic("relay: envelope packet does not parse: " + err.Error())
	}
	return frame.AppendEnvelopeJSON(dst, &env, epoch)
}

// envelopeClientLocked counts an envelope client in (+1) or out (-1); the
// first one arms the timer for the batch being filled.
func (h *hub) envelopeClientLocked(d int) {
	h.env.clients += d
	if d > 0 && h.env.cur != nil {
		h.armBatchTimer()
	}
}

// envelopeClientGone counts an envelope client out.
func (h *hub) envelopeClientGone() {
	h.mu.Lock()
	h.envelopeClientLocked(-1)
	h.mu.Unlock()
}
