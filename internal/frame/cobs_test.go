package frame_test

import (
	"bytes"
	"math/rand/v2"
	"testing"

	"github.com/wsbridge/wsbridge/internal/frame"
)

// refCOBS is the byte-at-a-time reference algorithm (Cheshire and Baker),
// the definition AppendCOBS must match byte for byte.
func refCOBS(src []byte) []byte {
	dst := []byte{0}
	codeAt, code := 0, byte(1)
	for _, b := range src {
		if b != 0 {
			dst = append(dst, b)
			code++
		}
		if b == 0 || code == 0xFF {
			dst[codeAt] = code
			codeAt = len(dst)
			dst = append(dst, 0)
			code = 1
		}
	}
	dst[codeAt] = code
	return dst
}

func TestAppendCOBSMatchesReference(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	var inputs [][]byte
	for n := 0; n <= 1100; n++ { // every length, no zeros: the 254-byte edges
		inputs = append(inputs, bytes.Repeat([]byte{7}, n))
	}
	for _, at := range []int{0, 1, 253, 254, 255, 508, 509} { // a zero at block edges
		b := bytes.Repeat([]byte{9}, 600)
		b[at] = 0
		inputs = append(inputs, b)
	}
	for i := 0; i < 2000; i++ { // random lengths and zero densities
		b := make([]byte, r.IntN(3000))
		density := 1 + r.IntN(300)
		for j := range b {
			if r.IntN(density) != 0 {
				b[j] = byte(1 + r.IntN(255))
			}
		}
		inputs = append(inputs, b)
	}
	for _, in := range inputs {
		prefix := []byte("kept")
		got := frame.AppendCOBS(append([]byte{}, prefix...), in)
		if want := append(append([]byte{}, prefix...), refCOBS(in)...); !bytes.Equal(got, want) {
			t.Fatalf("input of %d bytes: AppendCOBS differs from the reference", len(in))
		}
		if dec, err := frame.DecodeCOBS(nil, got[len(prefix):]); err != nil || !bytes.Equal(dec, in) {
			t.Fatalf("input of %d bytes: round trip failed: %v", len(in), err)
		}
	}
}
