package relay

import (
	"bytes"
	"encoding/json"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/wsbridge/wsbridge/internal/frame"
	"github.com/wsbridge/wsbridge/internal/wsproto"
)

// kind is what a ring entry carries.
type kind uint8

const (
	kindFrame  kind = iota // a data frame
	kindGap                // device gap: frames From..To never reached serve
	kindStatus             // a device state change (down, up, restart)
	kindText               // any other JSON message: info, log, reply
)

// Wire formats a client may ask for with ?format=.
const (
	FormatBinary = "binary" // one v1 data packet per binary message
	FormatJSON   = "json"   // one frame.AppendJSONEpoch object per text message
	FormatCSV    = "csv"    // the frame's CSV lines per text message
)

// entry is one element of the history ring. It is immutable once
// published, except for the lazily filled json and csv caches and their
// accounting (extra).
type entry struct {
	kind    kind
	replay  bool          // sent to clients that resume from before it (frames, gaps, restarts)
	firstOK bool          // first is known: the epoch's count had begun when the entry was pushed
	epoch   wsproto.Epoch // the count the entry belongs to: new per serve start and device restart
	key     uint32        // frames: seq; gaps: To; others: the seq expected next
	first   uint32        // with firstOK: the first seq of the entry's epoch (for the bus's readers)
	dur     int64         // sample time the frame covers, ns
	gap     *wsproto.Gap  // gaps only: nil in the frames that fill the ring
	batch   *batch        // frames only: the batch it belongs to, for envelope clients (envelope.go)
	frame   frame.Frame   // header; Data aliases raw
	raw     []byte        // frames: the v1 packet; others: the JSON text message
	json    atomic.Pointer[[]byte]
	csv     atomic.Pointer[[]byte]
	cost    int64        // memory the entry holds besides its renderings, bytes
	extra   atomic.Int64 // memory of its renderings counted so far; -1 once evicted
}

// entrySize is the heap memory of an entry struct: its size rounded up to
// the allocator's 16-byte classes.
var entrySize = (int64(unsafe.Sizeof(entry{})) + 15) &^ 15

// gapSize is the heap memory of a gap entry's wsproto.Gap.
var gapSize = (int64(unsafe.Sizeof(wsproto.Gap{})) + 15) &^ 15

// renderingOverhead is what a cached rendering costs besides its bytes:
// the slice header the atomic pointer points to.
const renderingOverhead = 24

// withCost sets e.cost from what it holds and returns e.
func (e *entry) withCost() *entry {
	e.cost = entrySize + int64(cap(e.raw))
	if e.gap != nil {
		e.cost += gapSize
	}
	return e
}

// newFrameEntry copies p (valid only during the caller's call) into an
// entry; the hub sets its epoch once the seq tracker has seen it.
func newFrameEntry(p *frame.Packet) *entry {
	return fillFrameEntry(new(entry), p, append([]byte(nil), p.Raw...))
}

// fillFrameEntry makes e, a zero entry, the entry of data packet p, whose
// copy is raw.
func fillFrameEntry(e *entry, p *frame.Packet, raw []byte) *entry {
	e.kind, e.replay, e.key, e.raw, e.frame = kindFrame, true, p.Frame.Seq, raw, p.Frame
	e.frame.Data = raw[frame.PrefixSize+frame.DataHeaderSize : len(raw)-frame.CRCSize]
	if p.Frame.Rate > 0 {
		e.dur = int64(p.Frame.Count) * 1e9 / int64(p.Frame.Rate)
	}
	return e.withCost()
}

// newMessageEntry encodes msg as a JSON text entry.
func newMessageEntry(k kind, msg any, epoch wsproto.Epoch, key uint32, replay bool) *entry {
	b, err := json.Marshal(msg)
	if err != nil { // only plain structs are passed here
		panic("relay: failed to encode message: " + err.Error())
	}
	return (&entry{kind: k, replay: replay, epoch: epoch, key: key, raw: b}).withCost()
}

// newGapEntry makes the entry for a device gap From..To.
func newGapEntry(from, to uint32, epoch wsproto.Epoch) *entry {
	g := wsproto.Gap{Type: wsproto.TypeGap, From: from, To: to, Count: uint64(to-from) + 1, Reason: wsproto.GapDevice, Epoch: epoch}
	e := newMessageEntry(kindGap, g, epoch, to, true)
	e.gap = &g
	return e.withCost()
}

// encoded returns the message entry e carries for format fm and whether
// it is binary. JSON and CSV renderings are made on first request and
// cached in the entry; the cache is safe for concurrent writers (at worst
// two encode the same bytes and one copy wins). Each cached rendering
// counts against --history-bytes while its entry is held. A CSV rendering
// of a frame without samples is empty: there is nothing to send.
func (h *hub) encoded(e *entry, fm string) ([]byte, bool) {
	if e.kind != kindFrame {
		return e.raw, false
	}
	switch fm {
	case FormatJSON:
		return h.cached(e, &e.json, func(dst []byte) []byte { return frame.AppendJSONEpoch(dst, &e.frame, e.epoch) }), false
	case FormatCSV:
		return h.cached(e, &e.csv, func(dst []byte) []byte {
			return frame.Append(dst, frame.FormatCSV, &e.frame, &frame.TextOptions{})
		}), false
	}
	return e.raw, true
}

// cached returns *p, or renders it with appendTo: into a pooled scratch
// buffer, kept in the entry as an exact-size copy. Appending to nil would
// allocate once per doubling and leave the ring holding the spare capacity.
func (h *hub) cached(e *entry, p *atomic.Pointer[[]byte], appendTo func([]byte) []byte) []byte {
	if b := p.Load(); b != nil {
		return *b
	}
	sp := renderPool.Get().(*[]byte)
	*sp = appendTo((*sp)[:0])
	b := bytes.Clone(*sp)
	renderPool.Put(sp)
	if p.CompareAndSwap(nil, &b) {
		h.addRendering(e, int64(cap(b))+renderingOverhead)
	}
	return b // another writer's, if it came first, is the same bytes; eviction may have cleared *p since
}

// renderPool holds the scratch buffers of JSON and CSV renderings.
var renderPool = sync.Pool{New: func() any { return new([]byte) }}
