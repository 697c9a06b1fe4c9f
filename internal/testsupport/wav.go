package testsupport

import (
	"encoding/binary"
	"os"
	"testing"
)

// WAV is a parsed RIFF/WAVE file: its fmt fields and its data.
type WAV struct {
	Tag, Channels, Bits uint16
	Rate                uint32
	Data                []byte
}

// ReadWAV parses the WAV file at path and fails the test unless it is
// complete: the RIFF size is the file's size - 8, and the data chunk's
// size is what follows its header, to the end of the file.
func ReadWAV(t testing.TB, path string) WAV {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	le := binary.LittleEndian
	if len(b) < 44 || string(b[:4]) != "RIFF" || string(b[8:12]) != "WAVE" {
		t.Fatalf("%s: not a RIFF/WAVE file", path)
	}
	if got := le.Uint32(b[4:]); int(got) != len(b)-8 {
		t.Fatalf("%s: RIFF size %d, file size %d - 8 = %d", path, got, len(b), len(b)-8)
	}
	var w WAV
	for p := b[12:]; len(p) >= 8; {
		id, n := string(p[:4]), int(le.Uint32(p[4:]))
		switch id {
		case "fmt ":
			w.Tag, w.Channels, w.Rate, w.Bits = le.Uint16(p[8:]), le.Uint16(p[10:]), le.Uint32(p[12:]), le.Uint16(p[22:])
		case "data":
			if n != len(p)-8 {
				t.Fatalf("%s: data size %d, %d bytes follow", path, n, len(p)-8)
			}
			w.Data = p[8:]
			return w
		}
		if 8+n > len(p) {
			break
		}
		p = p[8+n:]
	}
	t.Fatalf("%s: no data chunk", path)
	return w
}

// I16 are the 16-bit samples of w, interleaved.
func (w WAV) I16() []int16 {
	out := make([]int16, len(w.Data)/2)
	for i := range out {
		out[i] = int16(binary.LittleEndian.Uint16(w.Data[2*i:]))
	}
	return out
}
