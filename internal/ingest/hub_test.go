package ingest_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/rs/zerolog"

	"github.com/wsbridge/wsbridge/internal/faultproxy"
	"github.com/wsbridge/wsbridge/internal/frame"
	"github.com/wsbridge/wsbridge/internal/ingest"
	"github.com/wsbridge/wsbridge/internal/relay"
	"github.com/wsbridge/wsbridge/internal/testsupport"
	"github.com/wsbridge/wsbridge/internal/testsupport/rig"
	"github.com/wsbridge/wsbridge/internal/wifisim"
	"github.com/wsbridge/wsbridge/internal/wsproto"
)

// relayHub is a real relay with one network channel per name.
type relayHub struct {
	base string                  // ws://127.0.0.1:PORT
	log  *testsupport.SyncBuffer // the relay's and the sources' log, debug level
}

// startRelayHub runs it; the device on channel NAME has token-NAME.
func startRelayHub(t *testing.T, subToken string, names ...string) *relayHub {
	t.Helper()
	logBuf := &testsupport.SyncBuffer{}
	log := zerolog.New(logBuf).Level(zerolog.DebugLevel)
	var devices [][2]string
	for _, name := range names {
		devices = append(devices, [2]string{name, "token-" + name})
	}
	base := rig.PubHub(t, relay.Options{Token: subToken, AllowCommands: true, MaxClients: 256, Log: log}, devices...)
	return &relayHub{base: base, log: logBuf}
}

// subscriber reads one channel's /ws/NAME: frames and gap messages.
type subscriber struct {
	mu     sync.Mutex
	frames []frame.Frame
	gaps   []wsproto.Gap
	texts  []string
}

func subscribe(t *testing.T, url, token string) *subscriber {
	t.Helper()
	c, _, err := websocket.Dial(context.Background(), url, &websocket.DialOptions{
		HTTPHeader: http.Header{"Authorization": {"Bearer " + token}}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.CloseNow() })
	c.SetReadLimit(1 << 20)
	s := &subscriber{}
	go func() {
		for {
			typ, b, err := c.Read(context.Background())
			if err != nil {
				return
			}
			s.mu.Lock()
			if typ == websocket.MessageBinary {
				var p frame.Packet
				if frame.Parse(&p, b) == nil {
					s.frames = append(s.frames, p.Clone().Frame)
				}
			} else {
				s.texts = append(s.texts, string(b))
				var g wsproto.Gap
				if json.Unmarshal(b, &g) == nil && g.Type == wsproto.TypeGap {
					s.gaps = append(s.gaps, g)
				}
			}
			s.mu.Unlock()
		}
	}()
	return s
}

func (s *subscriber) last() (uint32, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.frames) == 0 {
		return 0, 0
	}
	return s.frames[len(s.frames)-1].Seq, len(s.frames)
}

// checkExact checks a subscriber's frames against the counter boards
// send: in order, every sample the right value, and the frames missing
// exactly those its gap messages name. It returns the frames missing.
func (s *subscriber) checkExact(t *testing.T, name string, fs int) uint64 {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	var missing, announced uint64
	for _, g := range s.gaps {
		announced += g.Count
	}
	k := int64(s.frames[0].Int(0, 0))
	for i, f := range s.frames {
		if i > 0 {
			d := f.Seq - s.frames[i-1].Seq
			if d == 0 || d > 1<<31 {
				t.Fatalf("%s: seq %d after %d", name, f.Seq, s.frames[i-1].Seq)
			}
			missing += uint64(d - 1)
			k += int64(d-1) * int64(fs)
		}
		for j := 0; j < int(f.Count); j++ {
			if v := f.Int(j, 0); v != int64(int16(k)) {
				t.Fatalf("%s: seq %d sample %d = %d, want %d", name, f.Seq, j, v, int16(k))
			}
			k++
		}
	}
	if missing != announced {
		t.Fatalf("%s: %d frames missing, gap messages announce %d (%+v)", name, missing, announced, s.gaps)
	}
	return missing
}

// TestBoardsThroughCuts: 20 simulated Wi-Fi boards publish into one relay
// through their own fault proxies, each cut every 1-2 s, with one
// subscriber per channel. The 17 with a 64 KiB ring (6 s of frames) lose
// nothing; the 3 with a 20-frame ring (200 ms, shorter than the 500 ms
// the library waits before reconnecting) lose at each cut the frames their
// ring no longer held, exactly as many as the boards counted, each loss a
// gap message with its range.
func TestBoardsThroughCuts(t *testing.T) {
	t.Parallel()
	boards, run := 20, 5*time.Second
	if testing.Short() || raceEnabled {
		boards, run = 7, 3*time.Second
	}
	const fs = 40 // 4 kHz: 100 frames/s of 108 bytes
	var names []string
	for i := range boards {
		names = append(names, fmt.Sprintf("b%02d", i))
	}
	h := startRelayHub(t, "sub-token", names...)
	subs := map[string]*subscriber{}
	for _, n := range names {
		subs[n] = subscribe(t, h.base+"/ws/"+n, "sub-token")
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var wg sync.WaitGroup
	bs := map[string]*wifisim.Board{}
	proxies := map[string]*faultproxy.Proxy{}
	for i, n := range names {
		p, err := faultproxy.New(strings.TrimPrefix(h.base, "ws://"))
		if err != nil {
			t.Fatal(err)
		}
		defer p.Close()
		proxies[n] = p
		o := wifisim.DefaultOptions()
		o.URL, o.Token, o.Via = h.base+"/pub/"+n, "token-"+n, p.Addr()
		o.Device.Signal, o.Device.Rate, o.Device.FrameSamples = "counter", 4000, fs
		o.Device.MaxLag = time.Minute // a loaded machine must not make the simulated ADC drop frames: the ring is under test
		if i%7 == 6 {
			o.RingBytes = 20 * (108 + ingest.RingEntryOverhead)
		}
		b, err := wifisim.New(o)
		if err != nil {
			t.Fatal(err)
		}
		bs[n] = b
		wg.Go(func() { b.Run(ctx) })
	}
	stopCuts := make(chan struct{})
	var cutters sync.WaitGroup
	for i, n := range names {
		cutters.Go(func() {
			tick := time.NewTicker(time.Second + time.Duration(i)*50*time.Millisecond)
			defer tick.Stop()
			for {
				select {
				case <-stopCuts:
					return
				case <-tick.C:
					proxies[n].Cut(faultproxy.CutRST)
				}
			}
		})
	}
	time.Sleep(run)
	close(stopCuts)
	cutters.Wait()
	// No more cuts: every frame made so far reaches its subscriber.
	for _, n := range names {
		newest := uint32(bs[n].Stats().Device.Frames - 1)
		testsupport.WaitFor(t, 30*time.Second, n+"'s frames at its subscriber", func() bool {
			seq, got := subs[n].last()
			return got > 0 && int32(seq-newest) >= 0
		})
	}
	cancel()
	wg.Wait()
	var cuts, lost uint64
	for i, n := range names {
		st := bs[n].Stats()
		missing := subs[n].checkExact(t, n, fs)
		cuts += proxies[n].Stats().Cut
		if i%7 != 6 {
			if missing != 0 || st.Ring.Overwritten != 0 {
				t.Fatalf("%s (64 KiB ring): %d frames missing, %d overwritten: want none", n, missing, st.Ring.Overwritten)
			}
			continue
		}
		if missing == 0 || missing != st.Ring.Lost+st.Ring.Overwritten {
			t.Fatalf("%s (20-frame ring): %d frames missing; the board sent %d into dropped connections and overwrote %d unsent: want the same sum, more than 0; gaps %+v",
				n, missing, st.Ring.Lost, st.Ring.Overwritten, subs[n].gaps)
		}
		lost += missing
	}
	if cuts < uint64(boards)*2 {
		t.Fatalf("only %d cuts in all", cuts)
	}
	t.Logf("%d boards, %d cuts, %d frames lost by the small rings (each as an announced gap), none by the others", boards, cuts, lost)
}

// TestTokenSeparation: a device's token publishes on its own channel and
// nothing else (not another channel, not /ws, not /api); the subscribers'
// token reads and cannot publish. No token appears in the log, also when
// sent in the URL.
func TestTokenSeparation(t *testing.T) {
	h := startRelayHub(t, "sub-token", "garden", "mic")
	httpBase := "http" + strings.TrimPrefix(h.base, "ws")
	for _, c := range []struct {
		url, token string
		code       int
	}{
		{h.base + "/pub/garden", "token-garden", http.StatusSwitchingProtocols},
		{h.base + "/pub/mic", "token-garden", http.StatusUnauthorized},   // another device's channel
		{h.base + "/ws/garden", "token-garden", http.StatusUnauthorized}, // a device cannot subscribe
		{httpBase + "/api/channels", "token-garden", http.StatusUnauthorized},
		{httpBase + "/metrics", "token-garden", http.StatusUnauthorized},
		{h.base + "/pub/garden", "sub-token", http.StatusForbidden}, // a subscriber cannot publish
		{h.base + "/ws/garden", "sub-token", http.StatusSwitchingProtocols},
		{h.base + "/pub/mic?token=token-garden", "", http.StatusUnauthorized},
		{h.base + "/ws/mic?token=token-mic", "", http.StatusUnauthorized},
	} {
		var code int
		if strings.HasPrefix(c.url, "ws") {
			hdr := http.Header{}
			if c.token != "" {
				hdr.Set("Authorization", "Bearer "+c.token)
			}
			conn, resp, err := websocket.Dial(context.Background(), c.url, &websocket.DialOptions{HTTPHeader: hdr})
			if err == nil {
				conn.CloseNow()
			}
			if resp != nil {
				code = resp.StatusCode
			}
		} else {
			req, _ := http.NewRequest("GET", c.url, nil)
			req.Header.Set("Authorization", "Bearer "+c.token)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			code = resp.StatusCode
		}
		if code != c.code {
			t.Errorf("%s with %s: HTTP %d, want %d", c.url, c.token, code, c.code)
		}
	}
	time.Sleep(50 * time.Millisecond)
	if l := h.log.String(); strings.Contains(l, "token-") || strings.Contains(l, "sub-token") || !strings.Contains(l, "unauthorized") {
		t.Fatalf("the log shows a token (or no refusal at all):\n%s", l)
	}
}
