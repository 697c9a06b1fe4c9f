package relay

import (
	"bytes"
	"testing"

	"github.com/wsbridge/wsbridge/internal/frame"
)

// TestSlabCopiesAreIndependent: frames of every size, across many blocks
// and past the largest a block takes, come out of the slab byte for byte,
// each its own copy (the caller's buffer is reused), capped so that one
// frame cannot grow into the next, with Data inside that copy.
func TestSlabCopiesAreIndependent(t *testing.T) {
	var s slab
	var want [][]byte
	var got []*entry
	for i := 0; i < 600; i++ {
		count := 1 + (i*37)%(slabLargest/2+200) // up to ~2x past slabLargest in bytes
		f := frame.Frame{Seq: uint32(i), Rate: 16000, Channels: 1, SampleType: frame.I16, Count: uint16(count)}
		f.Data = make([]byte, f.PayloadSize())
		for j := range f.Data {
			f.Data[j] = byte(i + j)
		}
		p := packetOf(t, &f)
		want = append(want, append([]byte(nil), p.Raw...))
		got = append(got, s.frameEntry(p))
		for j := range p.Raw { // the caller's buffer is reused for the next frame
			p.Raw[j] = 0xee
		}
	}
	for i, e := range got {
		if !bytes.Equal(e.raw, want[i]) {
			t.Fatalf("frame %d: copy differs from the packet (len %d, want %d)", i, len(e.raw), len(want[i]))
		}
		if cap(e.raw) != len(e.raw) {
			t.Fatalf("frame %d: cap %d > len %d: an append would overwrite the next frame", i, cap(e.raw), len(e.raw))
		}
		if e.kind != kindFrame || e.key != uint32(i) || e.frame.Seq != uint32(i) || e.cost != entrySize+int64(len(e.raw)) {
			t.Fatalf("frame %d: entry kind %d key %d seq %d cost %d", i, e.kind, e.key, e.frame.Seq, e.cost)
		}
		if d := e.frame.Data; len(d) == 0 || &d[0] != &e.raw[frame.PrefixSize+frame.DataHeaderSize] {
			t.Fatalf("frame %d: Data does not alias the entry's copy", i)
		}
	}
}

// TestSlabAllocatesPerBlock: publishing a frame costs no allocation of
// its own once a block is there (the point of the slab).
func TestSlabAllocatesPerBlock(t *testing.T) {
	var s slab
	f := frame.Frame{Rate: 16000, Channels: 1, SampleType: frame.I16, Count: 160}
	f.Data = make([]byte, f.PayloadSize())
	p := packetOf(t, &f)
	allocs := testing.AllocsPerRun(1000, func() { s.frameEntry(p) })
	if allocs > 0.1 {
		t.Fatalf("%.2f allocations per frame, want about 2 per %d frames", allocs, slabEntries)
	}
}
