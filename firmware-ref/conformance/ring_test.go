package conformance

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/wsbridge/wsbridge/internal/frame"
	"github.com/wsbridge/wsbridge/internal/ingest"
	"github.com/wsbridge/wsbridge/internal/testenv"
)

// The resend ring of wsbridge_device.h (wsb_ring) must behave exactly like
// Go's ingest.Ring, which the simulated Wi-Fi board uses: the same frames
// kept and overwritten, handed out in the same order with the same bytes,
// the same resume decisions and counters. ringHost runs the C ring;
// goRing answers the same commands with the Go ring.

var (
	ringOnce sync.Once
	ringBin  string
	ringErr  error
)

func ringHostBinary(t *testing.T) string {
	t.Helper()
	testenv.Need(t, "gcc", "gcc") // outside Do: a skip must not leave it done
	ringOnce.Do(func() {
		ringBin = filepath.Join(buildDir, "wsb_ring_host")
		if err := compile(t, "gcc", "-std=c99", "-Wall", "-Wextra", "-Werror", "-pedantic", "-O2", "-I", "..",
			"-o", ringBin, filepath.Join("testdata", "wsb_ring_host.c")); err != nil {
			ringErr = fmt.Errorf("failed to compile wsb_ring_host.c: %w", err)
		}
	})
	if ringErr != nil {
		t.Fatal(ringErr)
	}
	return ringBin
}

func runRingHost(t *testing.T, cmds []string) []string {
	t.Helper()
	return runLines(t, ringHostBinary(t), cmds)
}

// goRing answers the host program's commands with ingest.Ring.
type goRing struct {
	t    *testing.T
	ring *ingest.Ring
}

func (g *goRing) run(c string) string {
	var a, b uint64
	f := strings.Fields(c)
	switch f[0] {
	case "init":
		fmt.Sscan(f[1], &a)
		g.ring = ingest.NewRing(int(a))
		return "ok"
	case "put":
		fmt.Sscan(f[1], &a)
		fmt.Sscan(f[2], &b)
		fr := frame.Frame{Seq: uint32(a), Rate: 16000, Channels: 1, SampleType: frame.U16, Count: uint16(b), Data: make([]byte, 2*b)}
		for i := 0; i < int(b); i++ {
			fr.PutInt(i, 0, int64(a))
		}
		p, err := frame.AppendFrame(nil, &fr)
		if err != nil {
			g.t.Fatal(err)
		}
		if g.ring.Put(p) != nil {
			return "put -1"
		}
		return "put 0"
	case "next":
		fmt.Sscan(f[1], &a)
		p, ok := g.ring.Next(nil) // the Go ring grows its buffer: emulate the C capacity check
		if !ok {
			return "next 0 0 0"
		}
		if len(p) > int(a) {
			g.t.Fatalf("test bug: next %d with a frame of %d bytes", a, len(p))
		}
		var pk frame.Packet
		frame.Parse(&pk, p)
		return fmt.Sprintf("next %d %d %08x", len(p), pk.Frame.Seq, frame.Checksum(p))
	case "resume":
		fmt.Sscan(f[1], &a)
		fmt.Sscan(f[2], &b)
		r := g.ring.Resume(a != 0, uint32(b))
		return fmt.Sprintf("resume %d %d %d %d %d", r.Frames, r.From, b2i(r.Gap), b2i(r.Ahead), r.Lost)
	case "stats":
		s := g.ring.Stats()
		return fmt.Sprintf("stats %d %d %d %d %d %d %d %d %d", s.Put, s.Sent, s.Resent, s.Overwritten, s.Lost, s.Refused, s.Frames, s.Unsent, s.Bytes)
	}
	g.t.Fatalf("goRing: unknown command %q", c)
	return ""
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// TestRingMatchesGo: 25 random scripts of puts (frame sizes from empty to
// a quarter of the ring, some bigger than the ring), sends, resumes with
// and without a last seq (behind, inside, ahead of what the ring holds)
// and stats, seq wrapping through 2^32: the C ring answers every command
// exactly as the Go ring does.
func TestRingMatchesGo(t *testing.T) {
	rng := rand.New(rand.NewPCG(0x72696e67, 16))
	for round := 0; round < 25; round++ {
		capacity := 100 + rng.IntN(20000)
		cmds := []string{fmt.Sprintf("init %d", capacity)}
		seq := uint32(0xFFFFFFFF - 300)
		if round%2 == 0 {
			seq = 0
		}
		for op := 0; op < 1500; op++ {
			switch k := rng.IntN(20); {
			case k < 9:
				n := rng.IntN(capacity/8 + 1)
				if rng.IntN(50) == 0 {
					n = capacity // bigger than the ring: refused
				}
				if rng.IntN(7) == 0 {
					seq += uint32(1 + rng.IntN(3)) // the device skipped seqs itself
				}
				cmds = append(cmds, fmt.Sprintf("put %d %d", seq, min(n, 30000)))
				seq++
			case k < 16:
				cmds = append(cmds, "next 65536")
			case k < 19:
				have, last := 1, seq-uint32(rng.IntN(400))
				switch rng.IntN(6) {
				case 0:
					have = 0
				case 1:
					last = seq + uint32(rng.IntN(100)) // serve ahead
				}
				cmds = append(cmds, fmt.Sprintf("resume %d %d", have, last))
			default:
				cmds = append(cmds, "stats")
			}
		}
		cmds = append(cmds, "stats")
		got := runRingHost(t, cmds)
		if round < 3 {
			t.Logf("round %d: %s", round, got[len(got)-1])
		}
		g := &goRing{t: t}
		for i, c := range cmds {
			if want := g.run(c); got[i] != want {
				t.Fatalf("round %d (capacity %d), command %d %q:\n C: %s\nGo: %s", round, capacity, i, c, got[i], want)
			}
		}
	}
}

// TestRingNextBufferTooSmall: wsb_ring_next refuses a buffer smaller than
// the frame and leaves it next.
func TestRingNextBufferTooSmall(t *testing.T) {
	got := runRingHost(t, []string{"init 1000", "put 5 10", "next 47", "next 48", "next 48"})
	want := []string{"ok", "put 0", "next -1 0 0", "", "next 0 0 0"}
	if !strings.HasPrefix(got[3], "next 48 5 ") {
		t.Fatalf("next after a refused small buffer: %q, want the 48-byte frame 5", got[3])
	}
	want[3] = got[3]
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("got %q, want %q", got, want)
	}
}

// TestGreetingParse: the C greeting parser reads what serve's encoder
// (ingest.Greeting) writes, and tells commands from greetings.
func TestGreetingParse(t *testing.T) {
	last := uint32(4294967295)
	zero := uint32(0)
	type tc struct {
		msg  string
		want string
	}
	var cases []tc
	for _, g := range []ingest.Greeting{
		{Type: "hello", Protocol: 1, Server: "wsbridge dev", Role: ingest.RolePublisher, Channel: "garden", Epoch: "9f86d081",
			Boot: "5e2a91c0", LastSeq: &last, Commands: true},
		{Type: "hello", Protocol: 1, Server: `wsbridge "last_seq":7`, Role: ingest.RolePublisher, Channel: "c", Epoch: "00ff00ff", LastSeq: &zero},
		{Type: "hello", Protocol: 1, Role: ingest.RolePublisher, Channel: "mic", Epoch: "deadbeef"},
	} {
		b, err := json.Marshal(g)
		if err != nil {
			t.Fatal(err)
		}
		want := fmt.Sprintf("greet 1 0 0 %d %s", b2i(g.Commands), g.Epoch)
		if g.LastSeq != nil {
			want = fmt.Sprintf("greet 1 1 %d %d %s", *g.LastSeq, b2i(g.Commands), g.Epoch)
		}
		cases = append(cases, tc{string(b), want})
	}
	cases = append(cases,
		tc{"rate 8000", "greet 0 0 0 0 -"},
		tc{`{"type":"command"}`, "greet 0 0 0 0 -"},
		tc{`{"type":"hello","epoch":"x","last_seq":99999999999}`, "greet -1 0 0 0 x"},
		tc{`{"type":"hello","epoch":"x","last_seq":12`, "greet -1 0 0 0 x"},
		tc{`{"type":"hello","epoch":"x","last_seq":"12"}`, "greet -1 0 0 0 x"},
	)
	cmds := make([]string, len(cases))
	for i, c := range cases {
		cmds[i] = "greet " + hex.EncodeToString([]byte(c.msg))
	}
	got := runRingHost(t, cmds)
	for i, c := range cases {
		if got[i] != c.want {
			t.Errorf("%s\n got %s\nwant %s", c.msg, got[i], c.want)
		}
	}
}
