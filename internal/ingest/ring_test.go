package ingest_test

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/wsbridge/wsbridge/internal/frame"
	"github.com/wsbridge/wsbridge/internal/ingest"
)

// dataPacket is a v1 data frame with seq and n u16 samples of value seq.
func dataPacket(t testing.TB, seq uint32, n int) []byte {
	t.Helper()
	f := frame.Frame{Seq: seq, Rate: 16000, Channels: 1, SampleType: frame.U16, Count: uint16(n), Data: make([]byte, 2*n)}
	for i := 0; i < n; i++ {
		f.PutInt(i, 0, int64(seq))
	}
	p, err := frame.AppendFrame(nil, &f)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func seqOf(p []byte) uint32 {
	var pk frame.Packet
	if err := frame.Parse(&pk, p); err != nil {
		panic(err)
	}
	return pk.Frame.Seq
}

// drain hands out every frame to send and returns their seqs.
func drain(r *ingest.Ring) []uint32 {
	var seqs []uint32
	var buf []byte
	for {
		p, ok := r.Next(buf)
		if !ok {
			return seqs
		}
		seqs = append(seqs, seqOf(p))
		buf = p
	}
}

func seqs(from, to uint32) []uint32 {
	var s []uint32
	for q := from; q <= to; q++ {
		s = append(s, q)
	}
	return s
}

func equalSeqs(t *testing.T, what string, got, want []uint32) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: sent %v, want %v", what, got, want)
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("%s: sent %v, want %v", what, got, want)
		}
	}
}

// TestRingResendRule walks the rows of the resend rule (docs/protocol.md).
func TestRingResendRule(t *testing.T) {
	const frameLen = 28 + 2*16
	r := ingest.NewRing(10 * (frameLen + ingest.RingEntryOverhead)) // exactly 10 frames
	for q := uint32(100); q < 110; q++ {
		if err := r.Put(dataPacket(t, q, 16)); err != nil {
			t.Fatal(err)
		}
	}
	equalSeqs(t, "first connection, live", drain(r), seqs(100, 109))

	if res := r.Resume(false, 0); res.Frames != 10 || res.From != 100 || res.Gap || res.Ahead {
		t.Fatalf("no last seq: %+v, want all 10 from 100", res)
	}
	equalSeqs(t, "no last seq", drain(r), seqs(100, 109))

	if res := r.Resume(true, 109); res.Frames != 0 {
		t.Fatalf("up to date: %+v", res)
	}
	equalSeqs(t, "up to date", drain(r), nil)

	if res := r.Resume(true, 104); res.Frames != 5 || res.From != 105 || res.Gap {
		t.Fatalf("last 104: %+v, want 5 from 105", res)
	}
	equalSeqs(t, "after 104", drain(r), seqs(105, 109))

	if res := r.Resume(true, 150); !res.Ahead || res.Frames != 10 || res.From != 100 {
		t.Fatalf("serve ahead: %+v, want all 10", res)
	}
	drain(r)

	// A drop longer than the ring: 10 more frames overwrite everything.
	r.Resume(true, 109)
	for q := uint32(110); q < 125; q++ {
		r.Put(dataPacket(t, q, 16))
	}
	if res := r.Resume(true, 109); !res.Gap || res.From != 115 || res.Frames != 10 || res.Lost != 5 {
		t.Fatalf("drop longer than the ring: %+v, want a gap, 10 frames from 115", res)
	}
	equalSeqs(t, "after the long drop", drain(r), seqs(115, 124))
	s := r.Stats()
	// The 5 frames of serve's gap were overwritten before they were sent:
	// counted once, in Overwritten, not again in Lost.
	want := ingest.RingStats{Put: 25, Sent: 25 - 5, Resent: 10 + 5 + 10, Overwritten: 5, Lost: 0, Frames: 10, Bytes: 10 * (frameLen + 4), Capacity: 10 * (frameLen + 4)}
	if s != want {
		t.Fatalf("stats\n got %+v\nwant %+v", s, want)
	}
}

// TestRingCountsEachLostFrameOnce: a board whose link is slower than its
// sampler overwrites frames before it sends them (Overwritten), then sends
// more that never reach serve (a cut it has not noticed yet), then
// resumes after serve's last seq: Overwritten + Lost is exactly serve's
// gap, each frame counted once, however the two kinds interleave.
func TestRingCountsEachLostFrameOnce(t *testing.T) {
	const frameLen = 28 + 2*16
	r := ingest.NewRing(10 * (frameLen + ingest.RingEntryOverhead)) // exactly 10 frames
	put := func(from, to uint32) {
		for q := from; q <= to; q++ {
			r.Put(dataPacket(t, q, 16))
		}
	}
	send := func(n int) {
		for range n {
			if _, ok := r.Next(nil); !ok {
				t.Fatal("nothing to send")
			}
		}
	}
	put(100, 109)
	send(10)      // 100..109 reach serve
	put(110, 124) // 110..114 overwritten unsent
	send(3)       // 115..117 sent, lost in the cut
	put(125, 129) // 115..119 evicted: 115..117 sent, 118..119 unsent
	send(2)       // 120, 121 sent, lost
	put(130, 131) // 120, 121 evicted, sent
	res := r.Resume(true, 109)
	if !res.Gap || res.From != 122 || res.Lost != 12 {
		t.Fatalf("resume after 109: %+v, want a gap of 12 (110..121), from 122", res)
	}
	s := r.Stats()
	if s.Overwritten != 5+2 || s.Lost != 3+2 || s.Overwritten+s.Lost != uint64(res.Lost) {
		t.Fatalf("overwritten %d, lost %d: want 7 (110..114, 118, 119) and 5 (115..117, 120, 121), 12 in all: serve's gap", s.Overwritten, s.Lost)
	}
	// An overrun before serve's last seq is not in the next gap.
	send(10)      // 122..131
	put(132, 145) // 132..135 overwritten unsent
	send(2)       // 136, 137 reach serve
	put(146, 149) // 136..139 evicted: 138, 139 unsent
	res = r.Resume(true, 137)
	if s2 := r.Stats(); !res.Gap || res.Lost != 2 || s2.Overwritten-s.Overwritten != 4+2 || s2.Lost != s.Lost {
		t.Fatalf("resume after 137: %+v, overwritten +%d, lost +%d: want a gap of 2 (138, 139) counted in overwritten only", res, s2.Overwritten-s.Overwritten, s2.Lost-s.Lost)
	}
}

func TestRingSeqWrapAndDeviceGaps(t *testing.T) {
	r := ingest.NewRing(4096)
	for _, q := range []uint32{0xFFFFFFFE, 0xFFFFFFFF, 0, 1, 5, 6} { // the device skipped 2..4 itself
		r.Put(dataPacket(t, q, 4))
	}
	if res := r.Resume(true, 0xFFFFFFFF); res.From != 0 || res.Frames != 4 || res.Gap {
		t.Fatalf("across the wrap: %+v, want 4 from 0", res)
	}
	equalSeqs(t, "across the wrap", drain(r), []uint32{0, 1, 5, 6})
	if res := r.Resume(true, 2); res.From != 5 || res.Frames != 2 || res.Gap {
		t.Fatalf("last in the device's own gap: %+v, want 2 from 5 (no ring gap)", res)
	}
}

func TestRingRefuses(t *testing.T) {
	r := ingest.NewRing(100)
	for name, p := range map[string][]byte{
		"too big":     dataPacket(t, 1, 40),
		"log packet":  must(frame.AppendLog(nil, []byte("x"))),
		"short":       {1, 1, 0},
		"not v1 data": append([]byte{2}, dataPacket(t, 1, 2)[1:]...),
	} {
		if err := r.Put(p); !errors.Is(err, ingest.ErrRingEntry) {
			t.Errorf("%s: Put = %v, want ErrRingEntry", name, err)
		}
	}
	if s := r.Stats(); s.Refused != 4 || s.Frames != 0 {
		t.Fatalf("stats %+v", s)
	}
}

func must(b []byte, err error) []byte {
	if err != nil {
		panic(err)
	}
	return b
}

// TestRingRandom: random frame sizes, puts, sends and resumes against a
// plain model: the ring always holds a suffix of what was put, byte for
// byte, within its capacity, and sends in order from the resume point.
func TestRingRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for round := 0; round < 50; round++ {
		capacity := 64 + rng.IntN(4000)
		r := ingest.NewRing(capacity)
		var all [][]byte // every frame put, by seq
		nextSent := 0    // model: index into all of the next frame Next returns
		for op := 0; op < 2000; op++ {
			switch k := rng.IntN(10); {
			case k < 5:
				p := dataPacket(t, uint32(len(all)), rng.IntN(200))
				err := r.Put(p)
				if len(p)+4 > capacity {
					if err == nil {
						t.Fatal("a frame bigger than the ring was kept")
					}
					p = nil // never held
				} else if err != nil {
					t.Fatal(err)
				}
				all = append(all, p)
			case k < 8:
				got, ok := r.Next(nil)
				held := heldFrom(r, all)
				if nextSent < held {
					nextSent = held // overwritten before it was sent
				}
				for nextSent < len(all) && all[nextSent] == nil {
					nextSent++
				}
				if !ok {
					if nextSent != len(all) {
						t.Fatalf("round %d: Next empty, model expects seq %d", round, nextSent)
					}
					continue
				}
				if !bytes.Equal(got, all[nextSent]) {
					t.Fatalf("round %d: Next gave seq %d, model expects %d", round, seqOf(got), nextSent)
				}
				nextSent++
			default:
				if len(all) == 0 {
					continue
				}
				last := rng.IntN(len(all))
				res := r.Resume(true, uint32(last))
				held := heldFrom(r, all)
				want := max(last+1, held)
				newest := len(all) - 1
				for newest >= 0 && all[newest] == nil {
					newest--
				}
				if last > newest { // serve is "ahead": everything held goes again
					want = held
				}
				for want < len(all) && all[want] == nil {
					want++
				}
				if res.Frames > 0 && int(res.From) != want || res.Ahead != (last > newest && res.Frames > 0) ||
					res.Gap != (!res.Ahead && held > last+1 && res.Frames > 0) {
					t.Fatalf("round %d: Resume(%d) = %+v, held from %d", round, last, res, held)
				}
				nextSent = want
			}
			s := r.Stats()
			if s.Bytes > capacity {
				t.Fatalf("round %d: %d bytes held in a %d-byte ring", round, s.Bytes, capacity)
			}
		}
	}
}

// heldFrom is the seq of the oldest frame the ring holds (found by
// resuming from nothing and peeking), restoring nothing: callers resume
// or send right after.
func heldFrom(r *ingest.Ring, all [][]byte) int {
	s := r.Stats()
	if s.Frames == 0 {
		return len(all)
	}
	// The ring holds the newest s.Frames frames that fit (nil entries never do).
	n, i := 0, len(all)
	for i > 0 && n < s.Frames {
		i--
		if all[i] != nil {
			n++
		}
	}
	return i
}

func TestRingConcurrent(t *testing.T) {
	r := ingest.NewRing(1 << 16)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for q := uint32(0); q < 20000; q++ {
			r.Put(dataPacket(t, q, 32))
		}
	}()
	var got int
	var buf []byte
	last := int64(-1)
	for got < 20000 {
		p, ok := r.Next(buf)
		if !ok {
			if s := r.Stats(); s.Put == 20000 && s.Unsent == 0 {
				break
			}
			continue
		}
		if q := int64(seqOf(p)); q <= last {
			t.Fatalf("seq %d after %d", q, last)
		} else {
			last = q
		}
		got++
		buf = p
	}
	wg.Wait()
	s := r.Stats()
	if uint64(got)+s.Overwritten != 20000 {
		t.Fatalf("sent %d + overwritten %d != 20000", got, s.Overwritten)
	}
}
