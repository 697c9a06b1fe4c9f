package ingest

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sync"

	"github.com/wsbridge/wsbridge/internal/frame"
)

// RingEntryOverhead is what each frame costs in a Ring beyond its bytes:
// a 4-byte length.
const RingEntryOverhead = 4

// ringWrap marks where the entries stop before the end of the buffer.
const ringWrap = 0xFFFFFFFF

// minDataPacket is the size of a data packet with no samples.
const minDataPacket = frame.Overhead + frame.DataHeaderSize

// ErrRingEntry is returned by Ring.Put for a packet that is not a data
// frame or does not fit the ring at all.
var ErrRingEntry = errors.New("frame cannot go in the ring")

// Ring is a device's resend ring: its most recent data frames (v1 packets
// without COBS) in one fixed block of memory, oldest overwritten first,
// and at the same time its send queue. Frames are added with Put as they
// are made; Next hands out the next frame to send; after a (re)connect,
// Resume moves the send position according to serve's greeting (the
// resend rule of docs/protocol.md). A frame overwritten before Next handed
// it out is lost; serve sees its seq missing and reports the exact gap.
//
// Layout (the same in firmware-ref/wsbridge_device.h, whose behaviour the
// conformance tests compare with this one): each entry is a u32 length and
// the packet, stored contiguously; an entry that does not fit before the
// end of the buffer starts at offset 0, after a 0xFFFFFFFF marker if 4 or
// more bytes remain.
//
// A Ring is safe for concurrent use (the sampler puts, the sender takes).
type Ring struct {
	mu     sync.Mutex
	buf    []byte
	rd, wr int    // offsets of the oldest entry and of the next write
	count  int    // entries held
	used   int    // bytes they occupy, with their lengths
	lastAt int    // offset of the newest entry
	first  uint32 // absolute index of the oldest entry held
	next   uint32 // absolute index the next Put gets
	cur    uint32 // absolute index of the next entry to send
	curAt  int    // its offset, when cur != next
	mark   uint32 // one past the highest index Next ever handed out
	stats  RingStats
	// ow: the seqs of the frames overwritten before they were (re)sent
	// since the last Resume, as runs, so that a resume gap does not count
	// them again in Lost (see unsentIn).
	ow  [ringRuns]seqRun
	owN int
}

// ringRuns is how many separate runs of overwritten frames a Ring tells
// apart between two resumes; more merge into the last (see unsentIn).
const ringRuns = 8

// seqRun is n frames overwritten unsent, seqs from..to (to - from + 1 >= n:
// merged runs may enclose frames that were sent).
type seqRun struct{ from, to, n uint32 }

// RingStats are a Ring's counters.
type RingStats struct {
	Put         uint64 `json:"put"`         // frames added
	Sent        uint64 `json:"sent"`        // frames handed out for the first time
	Resent      uint64 `json:"resent"`      // frames handed out again after a Resume
	Overwritten uint64 `json:"overwritten"` // frames overwritten before they were (re)sent
	Lost        uint64 `json:"lost"`        // frames sent that serve lacked at a resume and the ring no longer held; with Overwritten, every frame serve never got
	Refused     uint64 `json:"refused"`     // Put calls refused (not a data frame, bigger than the ring)
	Frames      int    `json:"frames"`      // frames held now
	Unsent      int    `json:"unsent"`      // of which not yet handed out since the last Resume
	Bytes       int    `json:"bytes"`       // bytes they occupy, with their lengths
	Capacity    int    `json:"capacity"`
}

// NewRing returns a ring of capacity bytes.
func NewRing(capacity int) *Ring { return &Ring{buf: make([]byte, capacity)} }

// Put adds a data frame (a v1 data packet without COBS), overwriting the
// oldest frames as needed. The packet is copied.
func (r *Ring) Put(pkt []byte) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	need := RingEntryOverhead + len(pkt)
	if len(pkt) < minDataPacket || pkt[0] != frame.Version || frame.Type(pkt[1]) != frame.TypeData || need > len(r.buf) {
		r.stats.Refused++
		return fmt.Errorf("failed to keep a %d-byte packet in a %d-byte ring: %w", len(pkt), len(r.buf), ErrRingEntry)
	}
	for !r.fits(need) {
		r.evict()
	}
	if r.count > 0 && r.wr >= r.rd && len(r.buf)-r.wr < need {
		if len(r.buf)-r.wr >= RingEntryOverhead {
			binary.LittleEndian.PutUint32(r.buf[r.wr:], ringWrap)
		}
		r.wr = 0
	}
	at := r.wr
	binary.LittleEndian.PutUint32(r.buf[at:], uint32(len(pkt)))
	copy(r.buf[at+RingEntryOverhead:], pkt)
	r.wr += need
	r.used += need
	if r.cur == r.next {
		r.curAt = at
	}
	r.lastAt = at
	r.count++
	r.next++
	r.stats.Put++
	return nil
}

// fits reports whether need bytes can be written at wr (or at 0 after a
// wrap) without touching a live entry.
func (r *Ring) fits(need int) bool {
	switch {
	case r.count == 0:
		r.rd, r.wr = 0, 0
		return need <= len(r.buf)
	case r.wr > r.rd:
		return len(r.buf)-r.wr >= need || r.rd >= need
	case r.wr < r.rd:
		return r.rd-r.wr >= need
	}
	return false // wr == rd with entries: full
}

// evict drops the oldest entry; if it was still to be sent, it is lost.
func (r *Ring) evict() {
	if r.cur == r.first {
		r.stats.Overwritten++
		r.noteUnsent(r.seqAt(r.rd))
		r.cur++
	}
	r.used -= RingEntryOverhead + int(binary.LittleEndian.Uint32(r.buf[r.rd:]))
	r.first++
	r.count--
	if r.count > 0 {
		r.rd = r.after(r.rd)
		if r.cur == r.first {
			r.curAt = r.rd
		}
	}
}

// noteUnsent records that the frame seq was overwritten unsent.
func (r *Ring) noteUnsent(seq uint32) {
	switch last := &r.ow[max(r.owN-1, 0)]; {
	case r.owN > 0 && last.to+1 == seq:
		last.to, last.n = seq, last.n+1
	case r.owN < ringRuns:
		r.ow[r.owN] = seqRun{seq, seq, 1}
		r.owN++
	default: // out of runs: the last one grows over the frames sent in between
		last.to, last.n = seq, last.n+1
	}
}

// unsentIn is how many of the frames overwritten unsent since the last
// Resume have a seq after last: they are in a resume gap that starts
// there and are counted in Overwritten already. Exact unless more than
// ringRuns separate overruns came between two resumes and last falls
// inside the merged run; it then counts the run's frames after last, at
// most its n.
func (r *Ring) unsentIn(last uint32) uint32 {
	var n uint32
	for _, run := range r.ow[:r.owN] {
		switch {
		case int32(run.from-last) > 0:
			n += run.n
		case int32(run.to-last) > 0:
			n += min(run.n, run.to-last)
		}
	}
	return n
}

// after is the offset of the entry that follows the one at off.
func (r *Ring) after(off int) int {
	off += RingEntryOverhead + int(binary.LittleEndian.Uint32(r.buf[off:]))
	if len(r.buf)-off < RingEntryOverhead || binary.LittleEndian.Uint32(r.buf[off:]) == ringWrap {
		return 0
	}
	return off
}

// seqAt is the seq of the frame stored at off.
func (r *Ring) seqAt(off int) uint32 {
	return binary.LittleEndian.Uint32(r.buf[off+RingEntryOverhead+frame.PrefixSize:])
}

// Next appends the next frame to send to dst[:0] and returns it, or false
// when every frame held has been handed out.
func (r *Ring) Next(dst []byte) ([]byte, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.cur == r.next {
		return dst[:0], false
	}
	n := int(binary.LittleEndian.Uint32(r.buf[r.curAt:]))
	dst = append(dst[:0], r.buf[r.curAt+RingEntryOverhead:r.curAt+RingEntryOverhead+n]...)
	if int32(r.cur-r.mark) < 0 {
		r.stats.Resent++
	} else {
		r.stats.Sent++
		r.mark = r.cur + 1
	}
	r.cur++
	if r.cur != r.next {
		r.curAt = r.after(r.curAt)
	}
	return dst, true
}

// Resumed says what Resume decided.
type Resumed struct {
	Frames int    // frames to send from the resume point (0: up to date)
	From   uint32 // the seq of the first of them
	// Gap: serve's last seq is older than the oldest frame held minus one,
	// so the frames in between are gone (the drop outlasted the ring);
	// Lost is how many: the gap serve reports.
	Gap  bool
	Lost uint32
	// Ahead: serve's last seq is ahead of the newest frame held (serve has
	// numbers this device did not make: it rebooted without a boot id, or
	// another device published on the channel). Everything is sent.
	Ahead bool
}

// Resume applies the resend rule to serve's greeting: with no last seq
// (have false) every frame held is sent again, oldest first; otherwise
// the frames after last.
func (r *Ring) Resume(have bool, last uint32) Resumed {
	r.mu.Lock()
	defer r.mu.Unlock()
	defer func() { r.owN = 0 }()
	if r.count == 0 {
		r.cur = r.next
		return Resumed{}
	}
	all := func(res Resumed) Resumed {
		r.cur, r.curAt = r.first, r.rd
		res.Frames, res.From = r.count, r.seqAt(r.rd)
		return res
	}
	switch {
	case !have:
		return all(Resumed{})
	case int32(last-r.seqAt(r.lastAt)) > 0:
		return all(Resumed{Ahead: true})
	}
	off := r.rd
	for k := 0; k < r.count; k++ {
		if s := r.seqAt(off); int32(s-last) > 0 {
			r.cur, r.curAt = r.first+uint32(k), off
			res := Resumed{Frames: r.count - k, From: s}
			if k == 0 && s != last+1 {
				res.Gap, res.Lost = true, s-last-1
				r.stats.Lost += uint64(res.Lost - min(res.Lost, r.unsentIn(last)))
			}
			return res
		}
		if k+1 < r.count {
			off = r.after(off)
		}
	}
	r.cur = r.next
	return Resumed{}
}

// Stats returns the counters and the ring's state.
func (r *Ring) Stats() RingStats {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := r.stats
	s.Frames, s.Unsent, s.Bytes, s.Capacity = r.count, int(r.next-r.cur), r.used, len(r.buf)
	return s
}
