package conformance

import (
	"bufio"
	"context"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/wsbridge/wsbridge/internal/frame"
	"github.com/wsbridge/wsbridge/internal/relay"
	"github.com/wsbridge/wsbridge/internal/testsupport"
	"github.com/wsbridge/wsbridge/internal/testsupport/rig"
)

// The Wi-Fi sketches run on the host against the stand-in of
// arduinoWebSockets (testdata/shim/WebSocketsClient.h), which writes what
// the library would do as records on fd 3. wifiNet carries those records
// over real WebSocket connections to a real server and feeds the server's
// messages back to the sketch through its script: the firmware's ring,
// greeting parser and command handling talk to serve's own /pub code.

// wifiNet drives one host-built Wi-Fi sketch.
type wifiNet struct {
	t      *testing.T
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	recs   *bufio.Reader
	route  func(url string) string // the sketch's URL path -> the ws:// URL to dial
	out    *testsupport.SyncBuffer // what the sketch prints on Serial
	refuse bool                    // answer connect attempts with wsfail
	conns  map[int]*websocket.Conn
	in     chan wsMsg
	dials  int
}

type wsMsg struct {
	id   int
	data []byte
	err  error
}

func startWiFiSketch(t *testing.T, bin string, route func(url string) string) *wifiNet {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin)
	cmd.ExtraFiles = []*os.File{w} // fd 3
	out := &testsupport.SyncBuffer{}
	cmd.Stdout = out // Serial: the sketch's own log
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	w.Close()
	n := &wifiNet{t: t, cmd: cmd, stdin: stdin, recs: bufio.NewReaderSize(r, 1<<20), route: route, out: out,
		conns: map[int]*websocket.Conn{}, in: make(chan wsMsg, 1024)}
	t.Cleanup(func() {
		stdin.Close()
		cmd.Wait()
		r.Close()
		for _, c := range n.conns {
			c.CloseNow()
		}
	})
	return n
}

// step runs one script line and carries out the records it produced.
func (n *wifiNet) step(line string) {
	n.t.Helper()
	if _, err := fmt.Fprintln(n.stdin, line); err != nil {
		n.t.Fatalf("sketch gone: %v", err)
	}
	var follow []string
	for {
		rec, err := n.recs.ReadString('\n')
		if err != nil {
			n.t.Fatalf("sketch output ended: %v", err)
		}
		rec = strings.TrimSuffix(rec, "\n")
		if rec == "." {
			break
		}
		if l := n.record(rec); l != "" {
			follow = append(follow, l)
		}
	}
	for _, l := range follow {
		n.step(l)
	}
}

// record carries out one record; it returns a script line to run next.
func (n *wifiNet) record(rec string) string {
	f := strings.Fields(rec)
	var id int
	fmt.Sscan(f[1], &id)
	switch f[0] {
	case "C": // C ID HOST PORT SSL URL AUTH
		if n.refuse {
			return fmt.Sprintf("wsfail %d", id)
		}
		auth, _ := hex.DecodeString(f[6])
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		c, _, err := websocket.Dial(ctx, n.route(f[5]), &websocket.DialOptions{
			HTTPHeader: http.Header{"Authorization": {string(auth)}, "Origin": {"file://"}}})
		if err != nil {
			n.t.Logf("dial %s: %v", f[5], err)
			return fmt.Sprintf("wsfail %d", id)
		}
		c.SetReadLimit(15 * 1024)
		n.conns[id] = c
		n.dials++
		go func() {
			for {
				_, b, err := c.Read(context.Background())
				n.in <- wsMsg{id, b, err}
				if err != nil {
					return
				}
			}
		}()
		return fmt.Sprintf("wsup %d", id)
	case "B", "T":
		c := n.conns[id]
		if c == nil {
			n.t.Fatalf("sketch sent %s while its client %d is not connected", f[0], id)
		}
		b, _ := hex.DecodeString(f[2])
		if f[2] == "-" {
			b = nil
		}
		typ := websocket.MessageBinary
		if f[0] == "T" {
			typ = websocket.MessageText
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := c.Write(ctx, typ, b); err != nil {
			n.t.Logf("write on client %d: %v", id, err)
		}
	default:
		n.t.Fatalf("unknown record %q", rec)
	}
	return ""
}

// deliver hands the sketch what the server sent since the last call,
// waiting up to wait for the first message.
func (n *wifiNet) deliver(wait time.Duration) {
	timer := time.NewTimer(wait)
	defer timer.Stop()
	for {
		select {
		case m := <-n.in:
			if n.conns[m.id] == nil {
				continue // from a connection already cut
			}
			if m.err != nil {
				delete(n.conns, m.id)
				n.step(fmt.Sprintf("wsdown %d", m.id))
				continue
			}
			n.step(fmt.Sprintf("wsrecv %d %s", m.id, hex.EncodeToString(m.data)))
		case <-timer.C:
			return
		}
		wait = 0
		timer.Reset(time.Millisecond)
	}
}

// cut drops client id's connection without a close handshake, as a Wi-Fi
// drop does, and tells the sketch.
func (n *wifiNet) cut(id int) {
	if c := n.conns[id]; c != nil {
		c.CloseNow()
		delete(n.conns, id)
		n.step(fmt.Sprintf("wsdown %d", id))
	}
}

// loops runs the sketch's loop() k times, delivering server messages in
// between.
func (n *wifiNet) loops(k int) {
	for i := 0; i < k; i++ {
		n.step("loop 1")
		n.deliver(0)
	}
}

// stepBoth runs loop() on each sketch k times in turn, giving the servers
// a moment to pass messages between them.
func stepBoth(k int, sketches ...*wifiNet) {
	for i := 0; i < k; i++ {
		for _, n := range sketches {
			n.step("loop 1")
			n.deliver(2 * time.Millisecond)
		}
	}
}

// pubServe is a real relay with one network channel (ingest.Network,
// serve's /pub source) per device: name and token.
type pubServe struct {
	base string // ws://127.0.0.1:PORT
}

func startPubServe(t *testing.T, subToken string, devices ...[2]string) *pubServe {
	t.Helper()
	return &pubServe{base: rig.PubHub(t, relay.Options{AllowCommands: true, History: time.Minute, Token: subToken}, devices...)}
}

// streamClient reads the relay's /ws live from the start: data frames
// and the JSON messages in between.
type streamClient struct {
	mu     sync.Mutex
	conn   *websocket.Conn
	frames []frame.Frame
	texts  []string
	err    error
}

func startStream(t *testing.T, base string) *streamClient {
	t.Helper()
	c, _, err := websocket.Dial(context.Background(), base+"/ws", nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.CloseNow() })
	c.SetReadLimit(1 << 20)
	s := &streamClient{conn: c}
	go func() {
		for {
			typ, b, err := c.Read(context.Background())
			s.mu.Lock()
			switch {
			case err != nil:
				s.err = err
			case typ == websocket.MessageText:
				s.texts = append(s.texts, string(b))
			default:
				var p frame.Packet
				if frame.Parse(&p, b) == nil {
					s.frames = append(s.frames, p.Clone().Frame)
				}
			}
			s.mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	return s
}

// wait waits until cond holds on what arrived.
func (s *streamClient) wait(t *testing.T, what string, cond func(frames []frame.Frame, texts string) bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		s.mu.Lock()
		ok, err := cond(s.frames, strings.Join(s.texts, "|")), s.err
		n := len(s.frames)
		s.mu.Unlock()
		if ok {
			return
		}
		if err != nil || time.Now().After(deadline) {
			t.Fatalf("waiting for %s: %v (%d frames)", what, err, n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// micValue is the fake INMP441's sample k as the sketch sends it (i16).
func micValue(k int64) int64 { return int64(int16(((k*1237)%(1<<24) - (1 << 23)) >> 8)) }

// TestSketchWiFiResend runs wifi_ws_frames on the host against a real
// relay: a Wi-Fi drop of 0.9 s (shorter than the sketch's 1.9 s ring)
// loses nothing; a drop of 3.2 s loses exactly the frames the ring
// overwrote, which serve reports as one gap and the sketch as one log
// line; a command reaches the sketch and its reply comes back.
func TestSketchWiFiResend(t *testing.T) {
	t.Parallel()
	bin := buildSketch(t, "wifi_ws_frames", "FAKE_WS", "WSB_SAMPLER_TASK=0", "CONFIG_IDF_TARGET_ESP32=1")
	ps := startPubServe(t, "", [2]string{"mic", "paste-the-device-token"})
	live := startStream(t, ps.base)
	n := startWiFiSketch(t, bin, func(u string) string { return ps.base + u })
	n.loops(100) // connect, greeting, streaming
	if n.dials != 1 {
		t.Fatalf("%d connections after 100 loops, want 1", n.dials)
	}
	n.refuse = true
	n.cut(0)
	n.loops(55) // 55 x 16 ms without the link: 0.9 s
	n.refuse = false
	n.loops(100)
	n.refuse = true
	n.cut(0)
	n.loops(200) // 3.2 s (and up to 0.5 s more until the library retries): the ring holds 120 frames
	n.refuse = false
	n.loops(100)
	if n.dials != 3 {
		t.Fatalf("%d connections, want 3", n.dials)
	}
	// A command through serve to the sketch; its reply comes back.
	if err := live.conn.Write(context.Background(), websocket.MessageText, []byte(`{"type":"command","line":"info"}`)); err != nil {
		t.Fatal(err)
	}
	n.deliver(2 * time.Second)
	n.loops(5)
	const total = 100 + 55 + 100 + 200 + 100 + 5 // one frame per loop
	live.wait(t, "every frame and the reply", func(fs []frame.Frame, texts string) bool {
		return len(fs) > 0 && fs[len(fs)-1].Seq >= total-2 && strings.Contains(texts, `"ok":true,"text":"info"`)
	})
	live.mu.Lock()
	defer live.mu.Unlock()
	var gaps [][2]uint32
	k := int64(0)
	for i, f := range live.frames {
		if i == 0 && f.Seq != 0 {
			t.Fatalf("first frame seq %d", f.Seq)
		}
		if i > 0 && f.Seq != live.frames[i-1].Seq+1 {
			gaps = append(gaps, [2]uint32{live.frames[i-1].Seq + 1, f.Seq - 1})
			k += int64(f.Seq-live.frames[i-1].Seq-1) * 256
		}
		for j := 0; j < int(f.Count); j++ {
			if v := f.Int(j, 0); v != micValue(k) {
				t.Fatalf("seq %d sample %d = %d, want %d", f.Seq, j, v, micValue(k))
			}
			k++
		}
	}
	texts := strings.Join(live.texts, "|")
	if len(gaps) != 1 || gaps[0][0] < 100+55+100-5 || gaps[0][1] > 100+55+100+200+32 {
		t.Fatalf("gaps %v: want one gap, in the second drop", gaps)
	}
	lost := gaps[0][1] - gaps[0][0] + 1
	for _, want := range []string{
		fmt.Sprintf(`"type":"gap","from":%d,"to":%d,"count":%d,"reason":"device"`, gaps[0][0], gaps[0][1], lost),
		fmt.Sprintf("the link was down longer than the resend ring holds: frames %d..%d lost", gaps[0][0], gaps[0][1]),
	} {
		if !strings.Contains(texts, want) {
			t.Fatalf("no %q in %s", want, texts)
		}
	}
}

// TestSketchWiFiPair runs wifi_pair as two boards, a and b, on one serve
// with a channel each: each publishes its potentiometer on its channel and
// reads the other's as CSV with the subscribers' token; a's button sends b
// the command "blink", b toggles its LED and its reply reaches a.
func TestSketchWiFiPair(t *testing.T) {
	t.Parallel()
	ps := startPubServe(t, "paste-the-subscribers-token", [2]string{"a", "token-a"}, [2]string{"b", "token-b"})
	route := func(u string) string { return ps.base + u }
	a := startWiFiSketch(t, buildSketch(t, "wifi_pair", "FAKE_WS", `WSB_NAME="a"`, `WSB_PEER="b"`, `WSB_TOKEN="token-a"`), route)
	b := startWiFiSketch(t, buildSketch(t, "wifi_pair", "FAKE_WS", `WSB_NAME="b"`, `WSB_PEER="a"`, `WSB_TOKEN="token-b"`), route)
	a.step("wspin 0 1") // buttons released (INPUT_PULLUP)
	b.step("wspin 0 1")
	stepBoth(200, a, b) // 1 s of board time: about 20 values each way
	for name, n := range map[string]*wifiNet{"a": a, "b": b} {
		// Each board's pot reads 34, 35, 36, ... (the stand-in's analogRead
		// counts up): the other must have printed a run of them in order.
		var got []string
		for _, l := range strings.Split(n.out.String(), "\n") {
			if v, ok := strings.CutPrefix(l, "peer "); ok && !strings.Contains(v, "replied") {
				got = append(got, v)
			}
		}
		if len(got) < 10 {
			t.Fatalf("board %s printed %d values of its peer: %q", name, len(got), n.out.String())
		}
		var first int
		fmt.Sscanf(got[0][2:], "%d", &first)
		for i, v := range got {
			if want := fmt.Sprintf("%s: %d", map[string]string{"a": "b", "b": "a"}[name], first+i); v != want {
				t.Fatalf("board %s: peer value %d is %q, want %q (all: %q)", name, i, v, want, got)
			}
		}
	}
	a.step("wspin 0 0") // press a's button
	stepBoth(20, a, b)
	testsupport.WaitFor(t, 5*time.Second, "b's reply at a", func() bool {
		stepBoth(1, a, b)
		return strings.Contains(a.out.String(), `peer b replied: {"type":"reply","ok":true,"text":"blink"}`)
	})
}
