package frame_test

import (
	"bytes"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/wsbridge/wsbridge/internal/frame"
	"github.com/wsbridge/wsbridge/internal/frame/frametest"
)

type decoded struct {
	packets [][]byte
	stats   frame.Stats
}

// feed decodes in, cut at the given points, and records everything.
func feed(in []byte, cuts []int) decoded {
	var out decoded
	d := frame.NewDecoder(func(p *frame.Packet) {
		out.packets = append(out.packets, append([]byte(nil), p.Raw...))
		checkInvariants(p)
	})
	prev := 0
	for _, c := range cuts {
		d.Write(in[prev:c])
		prev = c
	}
	d.Write(in[prev:])
	out.stats = d.Stats()
	return out
}

// checkInvariants panics if a packet handed on breaks what Parse promises.
func checkInvariants(p *frame.Packet) {
	if len(p.Raw) > frame.MaxPacketSize {
		panic("packet larger than MaxPacketSize")
	}
	if p.Type == frame.TypeData && len(p.Frame.Data) != p.Frame.PayloadSize() {
		panic("payload size mismatch")
	}
}

func randomCuts(seed uint64, n int) []int {
	r := rand.New(rand.NewPCG(seed, 0))
	cuts := make([]int, r.IntN(16))
	for i := range cuts {
		cuts[i] = r.IntN(n + 1)
	}
	slices.Sort(cuts)
	return cuts
}

// FuzzDecoder checks that the decoder never panics, never hands on an
// invalid packet, accounts for every byte, and gives the same result however
// the input is split.
func FuzzDecoder(f *testing.F) {
	for _, c := range frametest.Golden {
		f.Add(c.SerialBytes(), uint64(1))
	}
	f.Add(append([]byte("rst:0x1 (POWERON_RESET)\x00"), frametest.Golden[0].SerialBytes()...), uint64(2))
	f.Add(bytes.Repeat([]byte{0xFF}, 70000), uint64(3))
	f.Fuzz(func(t *testing.T, in []byte, seed uint64) {
		whole := feed(in, nil)
		split := feed(in, randomCuts(seed, len(in)))
		if !reflect.DeepEqual(whole, split) {
			t.Fatalf("split decode differs:\nwhole %+v\nsplit %+v", whole.stats, split.stats)
		}
		if whole.stats.NoiseBytes > whole.stats.Bytes || whole.stats.Bytes != uint64(len(in)) {
			t.Fatalf("bytes unaccounted: %+v", whole.stats)
		}
	})
}

// FuzzTextDecoder checks the text decoder the same way.
func FuzzTextDecoder(f *testing.F) {
	f.Add([]byte("1,2\n3,4\r\na:1,b:2\n# ok rate 8000\n2.5\n"), uint64(1))
	f.Add([]byte("\x00\xff\n\n\n,,,\n::\n1e400\nNaN\n"), uint64(2))
	f.Fuzz(func(t *testing.T, in []byte, seed uint64) {
		run := func(cuts []int) []string {
			var got []string
			d := frame.NewTextDecoder(func(p *frame.Packet) {
				checkInvariants(p)
				got = append(got, string(p.Raw[4:])) // without the prefix: time fields are fixed below
			})
			d.Now = func() time.Time { return time.Time{} }
			d.ConfirmLines = frame.SerialConfirmLines
			prev := 0
			for _, c := range cuts {
				d.Write(in[prev:c])
				prev = c
			}
			d.Write(in[prev:])
			d.Flush()
			return got
		}
		if a, b := run(nil), run(randomCuts(seed, len(in))); !reflect.DeepEqual(a, b) {
			t.Fatalf("split decode differs: %d vs %d packets", len(a), len(b))
		}
	})
}

// FuzzParse checks Parse never panics and accepts only self-consistent packets.
func FuzzParse(f *testing.F) {
	for _, c := range frametest.Golden {
		f.Add(c.Bytes())
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var p frame.Packet
		if frame.Parse(&p, b) == nil {
			checkInvariants(&p)
		}
	})
}
