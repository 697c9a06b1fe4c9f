package record

// End to end: simulator on a pty -> serve -> record, over real WebSocket
// connections on loopback.

import (
	"encoding/binary"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/wsbridge/wsbridge/internal/adcsim"
	"github.com/wsbridge/wsbridge/internal/faultproxy"
	"github.com/wsbridge/wsbridge/internal/testenv"
	"github.com/wsbridge/wsbridge/internal/testsupport"
	"github.com/wsbridge/wsbridge/internal/testsupport/rig"
)

// speechWAV makes a 16 kHz mono 16-bit speech file with espeak-ng and sox
// and returns its path and samples.
func speechWAV(t *testing.T) (string, []int16) {
	t.Helper()
	espeak := testenv.Need(t, "espeak-ng", "espeak-ng")
	sox := testenv.Need(t, "sox", "sox")
	dir := t.TempDir()
	raw, out := filepath.Join(dir, "raw.wav"), filepath.Join(dir, "speech.wav")
	if b, err := exec.Command(espeak, "-w", raw, "record every sample").CombinedOutput(); err != nil {
		t.Fatalf("espeak-ng: %v\n%s", err, b)
	}
	if b, err := exec.Command(sox, raw, "-r", "16000", "-b", "16", "-c", "1", out).CombinedOutput(); err != nil {
		t.Fatalf("sox: %v\n%s", err, b)
	}
	return out, testsupport.ReadWAV(t, out).I16()
}

// TestSpeechBitExact: speech played by the simulator (--signal wav:FILE)
// through serve into record comes out sample for sample: as 16-bit PCM
// for i16 (the whole file), and for the other sample types in their
// documented encodings (i32: 32-bit PCM of v<<8, f32: float of v/32768,
// u16: the 12-bit word minus 32768).
func TestSpeechBitExact(t *testing.T) {
	path, src := speechWAV(t)
	n := len(src)
	cases := []struct {
		st       string
		tag      uint16
		bits     uint16
		duration time.Duration
		want     func(v int16) uint32 // the sample's bits in the file
	}{
		{"i16", 1, 16, time.Duration(n) * time.Second / 16000, func(v int16) uint32 { return uint32(uint16(v)) }},
		{"i32", 1, 32, 300 * time.Millisecond, func(v int16) uint32 { return uint32(int32(v) << 8) }},
		{"f32", 3, 32, 300 * time.Millisecond, func(v int16) uint32 { return math.Float32bits(float32(float64(v) / 32768)) }},
		{"u16", 1, 16, 300 * time.Millisecond, func(v int16) uint32 { return uint32(uint16(2048+int32(v)>>4) ^ 0x8000) }},
	}
	for _, tc := range cases {
		t.Run(tc.st, func(t *testing.T) {
			t.Parallel()
			cfg := adcsim.DefaultConfig()
			cfg.Signal, cfg.Rate, cfg.Channels, cfg.SampleType, cfg.FrameSamples = "wav:"+path, 16000, 1, tc.st, 160
			url := rig.DeviceAndServe(t, cfg).WS
			dir := t.TempDir()
			r := startRecord(t, Options{URLs: []string{url}, Dir: dir, Format: FormatWAV, Duration: tc.duration,
				Labels: []string{"text=record every sample"}})
			select {
			case <-r.done: // --duration ends it
			case <-time.After(20 * time.Second):
				t.Fatal("record did not finish within 20s")
			}
			sc := sidecars(t, dir)
			if len(sc) != 1 || !sc[0].Complete || sc[0].EndedBy != "duration" || len(sc[0].Gaps) != 0 {
				t.Fatalf("sidecars %+v", sc)
			}
			w := testsupport.ReadWAV(t, filepath.Join(dir, sc[0].File))
			want := int(math.Ceil(tc.duration.Seconds() * 16000))
			if w.Tag != tc.tag || w.Bits != tc.bits || w.Rate != 16000 || w.Channels != 1 ||
				len(w.Data) != want*int(tc.bits)/8 || sc[0].Samples != uint64(want) {
				t.Fatalf("wav tag %d, %d bits, %d Hz, %d channels, %d bytes; sidecar %d samples; want tag %d, %d bits, 16000 Hz, 1, %d samples",
					w.Tag, w.Bits, w.Rate, w.Channels, len(w.Data), sc[0].Samples, tc.tag, tc.bits, want)
			}
			// The simulator plays the file in a loop from sample 0 at seq 0,
			// frame after frame of FrameSamples: seq s starts at s*F.
			off := int(uint64(*sc[0].FirstSeq) * uint64(cfg.FrameSamples) % uint64(n))
			sz := int(tc.bits) / 8
			for j := range want {
				var got uint32
				if sz == 2 {
					got = uint32(binary.LittleEndian.Uint16(w.Data[2*j:]))
				} else {
					got = binary.LittleEndian.Uint32(w.Data[4*j:])
				}
				if exp := tc.want(src[(off+j)%n]); got != exp {
					t.Fatalf("sample %d (file sample %d): %#x, want %#x", j, (off+j)%n, got, exp)
				}
			}
			t.Logf("%s: %d samples equal to the speech file from its sample %d (seq %d)", tc.st, want, off, *sc[0].FirstSeq)
		})
	}
}

// counterConfig is a two-channel i16 counter at 8 kHz (wav under --format
// auto): sample index k carries k and k+1, modulo 2^16.
func counterConfig() adcsim.Config {
	cfg := adcsim.DefaultConfig()
	cfg.Signal, cfg.Rate, cfg.Channels, cfg.SampleType, cfg.FrameSamples = "counter", 8000, 2, "i16", 80
	return cfg
}

// checkCounterWAV checks that a recording of counterConfig holds
// consecutive sample indices starting where prev left off (prev < 0: any
// start) and returns the last one.
func checkCounterWAV(t *testing.T, path string, prev int) int {
	t.Helper()
	w := testsupport.ReadWAV(t, path)
	v := w.I16()
	if w.Channels != 2 || len(v) == 0 {
		t.Fatalf("%s: %d channels, %d samples", path, w.Channels, len(v))
	}
	for i := 0; i < len(v); i += 2 {
		k := int(uint16(v[i]))
		if uint16(v[i+1]) != uint16(k+1) || prev >= 0 && k != (prev+1)&0xffff {
			t.Fatalf("%s: sample instant %d is %d,%d after %d: not the next counter sample", path, i/2, v[i], v[i+1], prev)
		}
		prev = k
	}
	return prev
}

// TestResumeAfterNetworkDrop: the connection to serve is reset twice;
// record resumes with since+epoch and the recording has every sample once,
// in one file, with no gap.
func TestResumeAfterNetworkDrop(t *testing.T) {
	url := rig.DeviceAndServe(t, counterConfig()).WS
	host := regexp.MustCompile(`ws://([^/]+)`).FindStringSubmatch(url)[1]
	px, err := faultproxy.New(host)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { px.Close() })
	dir := t.TempDir()
	r := startRecord(t, Options{URLs: []string{"ws://" + px.Addr() + "/ws"}, Dir: dir})
	samples := func() uint64 {
		s := sidecars(t, dir)
		if len(s) == 0 {
			return 0
		}
		return s[len(s)-1].Samples
	}
	for cut := 1; cut <= 2; cut++ {
		before := samples()
		waitFor(t, "more samples", func() bool { return samples() > before+1600 })
		if n := px.Cut(faultproxy.CutRST); n == 0 {
			t.Fatalf("cut %d: no connection to cut", cut)
		}
		time.Sleep(150 * time.Millisecond) // frames pile up in serve's history meanwhile
	}
	before := samples()
	waitFor(t, "samples after the cuts", func() bool { return samples() > before+1600 })
	sum := r.stop(t)
	sc := sidecars(t, dir)
	if len(sc) != 1 || len(sc[0].Gaps) != 0 || !sc[0].Complete || sum.Streams[0].Connections < 3 {
		t.Fatalf("want one complete file without gaps over 3 connections: %+v, summary %+v", sc, sum.Streams[0])
	}
	checkCounterWAV(t, filepath.Join(dir, sc[0].File), -1)
	t.Logf("%d samples over %d connections, no gap", sc[0].Samples, sum.Streams[0].Connections)
}

// TestRotationAndStop: --rotate-every 200ms cuts the stream at frame
// boundaries into files of exactly 1600 sample instants that continue
// each other; a file being written is a valid WAV whose header never
// claims more than the file holds; stopping (what SIGTERM does) leaves
// every file complete with an exact header.
func TestRotationAndStop(t *testing.T) {
	url := rig.DeviceAndServe(t, counterConfig()).WS
	dir := t.TempDir()
	r := startRecord(t, Options{URLs: []string{url}, Dir: dir, RotateEvery: 200 * time.Millisecond})
	waitFor(t, "a third file", func() bool { return len(sidecars(t, dir)) >= 3 })
	// Read the open file as a player would, while it grows.
	for range 5 {
		sc := sidecars(t, dir)
		open := sc[len(sc)-1]
		b, err := os.ReadFile(filepath.Join(dir, open.File))
		if err != nil {
			t.Fatal(err)
		}
		data := binary.LittleEndian.Uint32(b[40:])
		if string(b[36:40]) != "data" || int(data) > len(b)-44 || data%4 != 0 ||
			binary.LittleEndian.Uint32(b[4:]) != data+36 {
			t.Fatalf("%s while being written: data size %d, riff %d, file %d bytes", open.File, data,
				binary.LittleEndian.Uint32(b[4:]), len(b))
		}
		time.Sleep(30 * time.Millisecond)
	}
	r.stop(t)
	sc := sidecars(t, dir)
	prev := -1
	for i, s := range sc {
		last := i == len(sc)-1
		if !s.Complete || (!last && (s.EndedBy != "rotate_duration" || s.Samples != 1600)) || (last && s.EndedBy != "stop") ||
			(i > 0 && (s.StartedBy != "rotate" || *s.FirstSeq != *sc[i-1].LastSeq+1)) {
			t.Fatalf("file %d: %+v", i, s)
		}
		prev = checkCounterWAV(t, filepath.Join(dir, s.File), prev)
	}
	t.Logf("%d files, contiguous", len(sc))
}
