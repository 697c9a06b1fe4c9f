package ingest_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/wsbridge/wsbridge/internal/faultproxy"
	"github.com/wsbridge/wsbridge/internal/frame"
	"github.com/wsbridge/wsbridge/internal/ingest"
	"github.com/wsbridge/wsbridge/internal/ingest/ingesttest"
	"github.com/wsbridge/wsbridge/internal/testsupport"
	"github.com/wsbridge/wsbridge/internal/wifisim"
)

// recorder is a source.Publisher that keeps everything (a unit stand-in
// for relay.Channel; the end-to-end tests use the real one).
type recorder struct {
	mu      sync.Mutex
	packets []frame.Packet
	events  []string // "up ...", "down ...", "restart ..."
	epoch   string
}

func (r *recorder) Packet(p *frame.Packet) {
	r.mu.Lock()
	r.packets = append(r.packets, p.Clone())
	r.mu.Unlock()
}
func (r *recorder) Up(reason string)      { r.event("up " + reason) }
func (r *recorder) Down(reason string)    { r.event("down " + reason) }
func (r *recorder) Epoch() string         { return r.epoch }
func (r *recorder) Restart(reason string) { r.event("restart " + reason) }
func (r *recorder) event(s string) {
	r.mu.Lock()
	r.events = append(r.events, s)
	r.mu.Unlock()
}

func (r *recorder) frames() []frame.Frame {
	r.mu.Lock()
	defer r.mu.Unlock()
	var fs []frame.Frame
	for _, p := range r.packets {
		if p.Type == frame.TypeData {
			fs = append(fs, p.Frame)
		}
	}
	return fs
}

func (r *recorder) eventList() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.events...)
}

// hub is one Network source behind an HTTP server, with its recorder.
type hub struct {
	net *ingest.Network
	rec *recorder
	url string // ws://127.0.0.1:PORT/pub/garden
	srv *httptest.Server
	// stop ends Run (serve shutting down) and waits for it.
	stop func()
}

// startHubFor serves n at /pub/bench and returns its ws:// URL.
func startHubFor(t testing.TB, n *ingest.Network) string {
	mux := http.NewServeMux()
	mux.Handle("GET /pub/bench", n)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return "ws" + strings.TrimPrefix(srv.URL, "http") + "/pub/bench"
}

func startHub(t *testing.T, o ingest.NetworkOptions) *hub { t.Helper(); return startHubWith(t, o, nil) }

// startHubWith is startHub whose test server wrap changes before it
// starts (nil: none).
func startHubWith(t *testing.T, o ingest.NetworkOptions, wrap func(*httptest.Server)) *hub {
	t.Helper()
	if o.Channel == "" {
		o.Channel = "garden"
	}
	n, err := ingest.NewNetwork(o)
	if err != nil {
		t.Fatal(err)
	}
	h := &hub{net: n, rec: &recorder{epoch: "0badcafe"}}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { n.Run(ctx, h.rec); close(done) }()
	h.stop = func() { cancel(); <-done }
	mux := http.NewServeMux()
	mux.Handle("GET /pub/"+o.Channel, n)
	h.srv = httptest.NewUnstartedServer(mux)
	if wrap != nil {
		wrap(h.srv)
	}
	h.srv.Start()
	testsupport.WaitFor(t, 2*time.Second, "Run", func() bool { return len(h.rec.eventList()) > 0 }) // else /pub says 503
	h.url = "ws" + strings.TrimPrefix(h.srv.URL, "http") + "/pub/" + o.Channel
	t.Cleanup(func() { cancel(); <-done; h.srv.Close() })
	return h
}

// counterBoard is a simulated Wi-Fi board with a counter signal.
func counterBoard(t *testing.T, url string, mod func(o *wifisim.Options)) *wifisim.Board {
	t.Helper()
	o := wifisim.DefaultOptions()
	o.URL, o.Token = url, "garden-secret"
	o.Device.Signal, o.Device.Rate, o.Device.FrameSamples = "counter", 4000, 40 // 100 frames/s
	o.Device.MaxLag = time.Minute                                               // a loaded machine must not make the simulated ADC drop frames: the ring is under test
	o.ReconnectInterval = 50 * time.Millisecond
	if mod != nil {
		mod(&o)
	}
	b, err := wifisim.New(o)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func runBoard(t *testing.T, b *wifisim.Board) context.CancelFunc {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { b.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return cancel
}

// checkCounter checks that frames carry consecutive seqs from first and
// the counter signal without a missing sample, and returns the count.
func checkCounter(t *testing.T, fs []frame.Frame) {
	t.Helper()
	if len(fs) == 0 {
		t.Fatal("no frames")
	}
	next := fs[0].Seq
	var idx int64 = int64(fs[0].Int(0, 0))
	for _, f := range fs {
		if f.Seq != next {
			t.Fatalf("seq %d after %d: frames lost or repeated", f.Seq, next-1)
		}
		next++
		for i := 0; i < int(f.Count); i++ {
			if v := f.Int(i, 0); v != int64(int16(idx)) {
				t.Fatalf("seq %d sample %d = %d, want %d", f.Seq, i, v, int16(idx))
			}
			idx++
		}
	}
}

func TestNetworkPublishes(t *testing.T) {
	t.Parallel()
	h := startHub(t, ingest.NetworkOptions{Token: "garden-secret", Server: "wsbridge test"})
	b := counterBoard(t, h.url, nil)
	runBoard(t, b)
	testsupport.WaitFor(t, 5*time.Second, "100 frames", func() bool { return len(h.rec.frames()) >= 100 })
	checkCounter(t, h.rec.frames())
	h.rec.mu.Lock()
	first := h.rec.packets[0]
	h.rec.mu.Unlock()
	if first.Type != frame.TypeInfo || first.Info.Rate != 4000 {
		t.Fatalf("first packet %+v: want the device info", first)
	}
	if ev := h.rec.eventList(); len(ev) < 2 || !strings.HasPrefix(ev[0], "down waiting") || !strings.HasPrefix(ev[1], "up device connected from 127.0.0.1") {
		t.Fatalf("events %q", ev)
	}
	if s := b.Stats(); s.Connects != 1 || s.Epoch != "0badcafe" {
		t.Fatalf("board stats %+v", s)
	}
}

// TestNetworkResumesAfterCuts: cuts of the TCP connection every 300 ms,
// shorter than the 64 KiB ring: every frame arrives once, in order.
func TestNetworkResumesAfterCuts(t *testing.T) {
	t.Parallel()
	h := startHub(t, ingest.NetworkOptions{Token: "garden-secret"})
	b := counterBoard(t, h.url, func(o *wifisim.Options) { o.Faults.CutEvery = 300 * time.Millisecond })
	runBoard(t, b)
	testsupport.WaitFor(t, 30*time.Second, "5 reconnects and 300 frames", func() bool {
		return b.Stats().Connects >= 6 && len(h.rec.frames()) >= 300
	})
	checkCounter(t, h.rec.frames())
	s := b.Stats()
	if s.Ring.Overwritten != 0 || s.ResumeGaps != 0 || s.Proxy.Cut < 5 {
		t.Fatalf("board stats %+v", s)
	}
	t.Logf("%d connects, %d frames resent, %d sent", s.Connects, s.Ring.Resent, s.Ring.Sent)
}

// TestNetworkStallsAndStorms: Wi-Fi stalls (traffic held, then delivered)
// and reconnect storms (cut again right after each reconnect) lose
// nothing either.
func TestNetworkStallsAndStorms(t *testing.T) {
	t.Parallel()
	h := startHub(t, ingest.NetworkOptions{Token: "garden-secret"})
	b := counterBoard(t, h.url, func(o *wifisim.Options) {
		o.Faults = wifisim.Faults{StallEvery: 500 * time.Millisecond, StallFor: 200 * time.Millisecond,
			StormEvery: 900 * time.Millisecond, StormCuts: 3}
	})
	runBoard(t, b)
	testsupport.WaitFor(t, 30*time.Second, "a storm and 250 frames", func() bool {
		return b.Stats().Connects >= 4 && len(h.rec.frames()) >= 250
	})
	checkCounter(t, h.rec.frames())
	if s := b.Stats(); s.Ring.Overwritten != 0 || s.Connects < 4 {
		t.Fatalf("board stats %+v: want reconnects and nothing lost", s)
	}
}

// TestNetworkGapBeyondTheRing: a drop longer than the ring gives exactly
// one gap: the frames overwritten before they could be sent.
func TestNetworkGapBeyondTheRing(t *testing.T) {
	t.Parallel()
	h := startHub(t, ingest.NetworkOptions{Token: "garden-secret"})
	p, err := faultproxy.New(strings.TrimPrefix(h.srv.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	// 4000 Hz u16 (default i16) frames of 40: 108 bytes, 112 in the ring: 20 frames = 200 ms.
	b := counterBoard(t, h.url, func(o *wifisim.Options) { o.Via, o.RingBytes = p.Addr(), 20*112 })
	runBoard(t, b)
	testsupport.WaitFor(t, 5*time.Second, "50 frames", func() bool { return len(h.rec.frames()) >= 50 })
	p.Refuse(true)
	p.Cut(faultproxy.CutRST)
	time.Sleep(600 * time.Millisecond) // 60 frames made, 20 kept
	p.Refuse(false)
	testsupport.WaitFor(t, 5*time.Second, "reconnect and 50 more frames", func() bool {
		return b.Stats().Connects >= 2 && len(h.rec.frames()) >= 150
	})
	missing, gaps := counterGaps(t, h.rec.frames(), 40)
	s := b.Stats()
	if gaps < 1 || missing != s.Ring.Lost+s.Ring.Overwritten || s.ResumeGaps != 1 {
		t.Fatalf("%d frames missing in %d gaps; the board sent %d into the dropped connection (%d resume gaps) and overwrote %d unsent: want the same total, one resume gap; %+v",
			missing, gaps, s.Ring.Lost, s.ResumeGaps, s.Ring.Overwritten, s)
	}
}

// counterGaps checks frames of the counter signal (fs samples each) that
// may have seq gaps: in order, every sample right given the frames
// missing before it. It returns the frames missing and the gaps.
func counterGaps(t *testing.T, fs []frame.Frame, samples int) (missing uint64, gaps int) {
	t.Helper()
	k := fs[0].Int(0, 0)
	for i, f := range fs {
		if i > 0 && f.Seq != fs[i-1].Seq+1 {
			d := f.Seq - fs[i-1].Seq - 1
			if d >= 1<<31 {
				t.Fatalf("seq %d after %d", f.Seq, fs[i-1].Seq)
			}
			missing, gaps, k = missing+uint64(d), gaps+1, k+int64(d)*int64(samples)
		}
		for j := 0; j < int(f.Count); j++ {
			if v := f.Int(j, 0); v != int64(int16(k)) {
				t.Fatalf("seq %d sample %d = %d, want %d", f.Seq, j, v, int16(k))
			}
			k++
		}
	}
	return missing, gaps
}

func TestNetworkTokens(t *testing.T) {
	h := startHub(t, ingest.NetworkOptions{Token: "garden-secret"})
	for _, c := range []struct {
		hdr, query, says string
	}{
		{"", "", "needs this device's token"},
		{"Bearer nope", "", "wrong token"},
		{"", "?token=nope", "wrong token"},
	} {
		hdr := http.Header{}
		if c.hdr != "" {
			hdr.Set("Authorization", c.hdr)
		}
		_, resp, err := websocket.Dial(context.Background(), h.url+c.query, &websocket.DialOptions{HTTPHeader: hdr})
		if err == nil || resp == nil || resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("%+v: err %v resp %v, want 401", c, err, resp)
		}
	}
	c, _, err := websocket.Dial(context.Background(), h.url+"?token=garden-secret", nil)
	if err != nil {
		t.Fatalf("?token=: %v", err)
	}
	c.CloseNow()
	_, resp, err := websocket.Dial(context.Background(), h.url+"?token=garden-secret&boot=a+b", nil)
	if err == nil || resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("bad boot: %v %v", err, resp)
	}
	_, resp, err = websocket.Dial(context.Background(), h.url, &websocket.DialOptions{HTTPHeader: http.Header{
		"Authorization": {"Bearer garden-secret"}, "Origin": {"http://evil.example"}}})
	if err == nil || resp.StatusCode != http.StatusForbidden {
		t.Fatalf("browser Origin: %v %v", err, resp)
	}
}

// dialPub connects a raw publisher and returns it with its greeting.
func dialPub(t *testing.T, url string) (*websocket.Conn, ingest.Greeting) {
	t.Helper()
	c, _, err := websocket.Dial(context.Background(), url, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.CloseNow() })
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, msg, err := c.Read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	g, err := ingest.ParseGreeting(msg)
	if err != nil {
		t.Fatal(err)
	}
	return c, g
}

// closeOf reads until the connection ends and returns its close status
// and reason.
func closeOf(t *testing.T, c *websocket.Conn) (websocket.StatusCode, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for {
		if _, _, err := c.Read(ctx); err != nil {
			var ce websocket.CloseError
			if errors.As(err, &ce) {
				return ce.Code, ce.Reason
			}
			t.Fatalf("connection ended without a close frame: %v", err)
		}
	}
}

// TestNetworkRefusesBadMessages: every bad message of the shared table
// closes the connection with its code and reason, counted by reason.
func TestNetworkRefusesBadMessages(t *testing.T) {
	h := startHub(t, ingest.NetworkOptions{})
	refused := map[string]float64{}
	for _, c := range ingesttest.Messages {
		if !c.Bad() || c.Input != "auto" {
			continue
		}
		conn, _ := dialPub(t, h.url)
		conn.SetReadLimit(1 << 20)
		for _, m := range append(c.Before, c.Msg) {
			typ := websocket.MessageText
			if m.Binary {
				typ = websocket.MessageBinary
			}
			conn.Write(context.Background(), typ, m.Data)
		}
		code, reason := closeOf(t, conn)
		if int(code) != c.Code || !strings.Contains(reason, c.Says) && c.Reason != "too_big" {
			t.Errorf("%s: closed with %d %q, want %d saying %q", c.Name, code, reason, c.Code, c.Says)
		}
		refused[c.Reason]++
	}
	testsupport.WaitFor(t, 2*time.Second, "counters", func() bool {
		for _, k := range h.net.Counters() {
			r, ok := strings.CutPrefix(k.Name, "ingest_refused_")
			if ok && refused[strings.TrimSuffix(r, "_total")] != k.Value {
				return false
			}
		}
		return true
	})
}

// TestNetworkBusyAndReplaced: a second publisher is refused while the
// first answers pings; once the first goes silent, the next one takes over.
func TestNetworkBusyAndReplaced(t *testing.T) {
	t.Parallel()
	h := startHub(t, ingest.NetworkOptions{ProbeTimeout: 300 * time.Millisecond})
	p, err := faultproxy.New(strings.TrimPrefix(h.srv.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	first, _ := dialPub(t, "ws://"+p.Addr()+"/pub/garden")
	go first.Read(context.Background()) // reading answers pings
	second, _, err := websocket.Dial(context.Background(), h.url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if code, reason := closeOf(t, second); code != ingest.CloseBusy || !strings.Contains(reason, "already has a publisher, connected from 127.0.0.1") {
		t.Fatalf("second publisher: %d %q, want 4009 busy", code, reason)
	}
	p.HalfOpen() // the first's Wi-Fi is gone: no FIN, no RST, no pongs
	third, g := dialPub(t, h.url)
	if g.Channel != "garden" {
		t.Fatalf("greeting %+v", g)
	}
	pkt := ingesttest.Messages[0].Msg.Data
	if err := third.Write(context.Background(), websocket.MessageBinary, pkt); err != nil {
		t.Fatal(err)
	}
	testsupport.WaitFor(t, 2*time.Second, "the third publisher's frame", func() bool { return len(h.rec.frames()) == 1 })
	for _, k := range h.net.Counters() {
		if (k.Name == "ingest_busy_total" || k.Name == "ingest_replaced_total") && k.Value != 1 {
			t.Fatalf("%s = %v, want 1", k.Name, k.Value)
		}
	}
	if ev := h.rec.eventList(); strings.Count(strings.Join(ev, "|"), "down") != 1 {
		t.Fatalf("events %q: the replacement must not report the device down", ev)
	}
}

func TestNetworkNoPong(t *testing.T) {
	t.Parallel()
	h := startHub(t, ingest.NetworkOptions{PingInterval: 100 * time.Millisecond})
	dialPub(t, h.url) // never reads again: no pongs
	testsupport.WaitFor(t, 3*time.Second, "the device reported down", func() bool {
		ev := h.rec.eventList()
		return len(ev) == 3 && ev[2] == "down no answer to pings"
	})
}

// TestNetworkGreetingAndBoots: a reconnect of the same boot is told the
// last seq; a new boot gets none and restarts the channel's count.
func TestNetworkGreetingAndBoots(t *testing.T) {
	t.Parallel()
	h := startHub(t, ingest.NetworkOptions{Commands: true, Server: "wsbridge test", ProbeTimeout: 200 * time.Millisecond})
	c, g := dialPub(t, h.url+"?boot=aaaa")
	if g.LastSeq != nil || g.Boot != "aaaa" || g.Epoch != "0badcafe" || !g.Commands || g.Server != "wsbridge test" {
		t.Fatalf("first greeting %+v", g)
	}
	for _, i := range []int{0, 1} { // seq 0 then 7
		c.Write(context.Background(), websocket.MessageBinary, ingesttest.Messages[i].Msg.Data)
	}
	c.Write(context.Background(), websocket.MessageText, []byte("12,13")) // refused: wrong kind
	closeOf(t, c)
	_, g = dialPub(t, h.url+"?boot=aaaa")
	if g.LastSeq == nil || *g.LastSeq != 7 {
		t.Fatalf("same boot: greeting %+v, want last_seq 7", g)
	}
	// The second connection reads nothing more, so it answers no ping:
	// the next one replaces it. A new boot: no last seq, a restart.
	_, g = dialPub(t, h.url+"?boot=bbbb")
	if ev := strings.Join(h.rec.eventList(), "|"); g.LastSeq != nil || !strings.Contains(ev, "restart the device rebooted (boot bbbb, was aaaa)") {
		t.Fatalf("new boot: greeting %+v, events %s; want no last seq and one restart", g, ev)
	}
}

func TestNetworkCommands(t *testing.T) {
	t.Parallel()
	h := startHub(t, ingest.NetworkOptions{Token: "garden-secret"})
	if err := h.net.Command("info"); err == nil || !strings.Contains(err.Error(), "no device connected") {
		t.Fatalf("command without a device: %v", err)
	}
	b := counterBoard(t, h.url, nil)
	runBoard(t, b)
	testsupport.WaitFor(t, 5*time.Second, "connected", b.Connected)
	if err := h.net.Command("rate 2000"); err != nil {
		t.Fatal(err)
	}
	testsupport.WaitFor(t, 5*time.Second, "the reply", func() bool {
		h.rec.mu.Lock()
		defer h.rec.mu.Unlock()
		for _, p := range h.rec.packets {
			if p.Type == frame.TypeReply && string(p.Text) == "rate 2000" && p.Status == frame.ReplyOK {
				return true
			}
		}
		return false
	})
	testsupport.WaitFor(t, 5*time.Second, "frames at 2000 Hz", func() bool {
		fs := h.rec.frames()
		return len(fs) > 0 && fs[len(fs)-1].Rate == 2000
	})
	checkCounter(t, h.rec.frames())
}

// TestNetworkTextAndJSONBoards: boards that send text lines and JSON
// objects (the tutorials' sketches) publish numbered frames.
func TestNetworkTextAndJSONBoards(t *testing.T) {
	t.Parallel()
	for _, format := range []string{wifisim.FormatText, wifisim.FormatJSON} {
		t.Run(format, func(t *testing.T) {
			h := startHub(t, ingest.NetworkOptions{Token: "garden-secret"})
			b := counterBoard(t, h.url, func(o *wifisim.Options) {
				o.Format, o.Device.Rate, o.Device.FrameSamples, o.Device.Channels = format, 100, 1, 2
			})
			runBoard(t, b)
			testsupport.WaitFor(t, 5*time.Second, "50 frames", func() bool { return len(h.rec.frames()) >= 50 })
			fs := h.rec.frames()
			for i, f := range fs {
				if f.Seq != uint32(i) || f.Channels != 2 || f.Int(0, 1) != f.Int(0, 0)+1 {
					t.Fatalf("frame %d: seq %d, %d channels, values %d %d", i, f.Seq, f.Channels, f.Int(0, 0), f.Int(0, 1))
				}
				if i > 0 && f.Int(0, 0) != fs[i-1].Int(0, 0)+1 {
					t.Fatalf("frame %d: %d after %d", i, f.Int(0, 0), fs[i-1].Int(0, 0))
				}
			}
			h.rec.mu.Lock()
			in := h.rec.packets[0]
			h.rec.mu.Unlock()
			if in.Type != frame.TypeInfo || fmt.Sprint(in.Info.ChannelInfo) != "[{ch0 } {ch1 }]" {
				t.Fatalf("first packet %+v", in)
			}
		})
	}
}
