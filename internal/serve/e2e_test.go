package serve

import (
	"context"
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/wsbridge/wsbridge/internal/capture"
	"github.com/wsbridge/wsbridge/internal/relay"
	"github.com/wsbridge/wsbridge/internal/testsupport"
	"github.com/wsbridge/wsbridge/internal/wsproto"
)

// ptyOptions reads the simulator's pty at link.
func ptyOptions(link string) Options {
	o := DefaultOptions()
	o.Capture.Port, o.Capture.Input = link, capture.InputFrames
	return o
}

// expectHello reads hello and checks it describes the simulator.
func expectHello(t *testing.T, c *websocket.Conn, format string) wsproto.Hello {
	t.Helper()
	h := testsupport.ExpectHello(t, c)
	if h.Format != format || h.DeviceState != wsproto.StateUp ||
		h.Rate != simRate || h.Channels != simChans || h.SampleType != "i16" {
		t.Fatalf("hello: %+v, want format %s from the simulator", h, format)
	}
	return h
}

// nextFrame reads until a data frame, failing on gaps and status changes.
func nextFrame(t *testing.T, c *websocket.Conn) event {
	t.Helper()
	for {
		switch ev := next(t, c); ev.typ {
		case "frame", "csv":
			return ev
		case wsproto.TypeInfo, wsproto.TypeLog:
		default:
			t.Fatalf("unexpected message %s", ev.raw)
		}
	}
}

// The simulator on a real pty -> serve -> clients in every format: every
// frame, contiguous seqs, exact counter samples.
func TestEndToEndPtyAllFormats(t *testing.T) {
	link := startSimPTY(t, simConfig(), 0)
	ws, _ := startServe(t, ptyOptions(link))
	for _, format := range []string{"binary", "json", "csv"} {
		c := testsupport.Dial(t, ws+"?format="+format, nil)
		h := expectHello(t, c, format)
		if h.Device == nil || h.Device.Name != "wsbridge-sim" {
			t.Fatalf("hello device: %+v", h.Device)
		}
		var prev event
		for n := 0; n < 30; n++ {
			ev := nextFrame(t, c)
			if format == "csv" {
				checkCSVContinues(t, prev, ev)
			} else {
				if n > 0 && ev.seq != prev.seq+1 {
					t.Fatalf("%s: frame %d after %d", format, ev.seq, prev.seq)
				}
				checkCounterFrame(t, ev)
			}
			prev = ev
		}
	}
}

// checkCSVContinues checks a CSV message's instants count up by one from
// where the previous message ended, channel 1 one above channel 0.
func checkCSVContinues(t *testing.T, prev, ev event) {
	t.Helper()
	if len(ev.samples) != simFS {
		t.Fatalf("csv message of %d lines, want %d", len(ev.samples), simFS)
	}
	for j, row := range ev.samples {
		if len(row) != simChans || int16(row[1]) != int16(row[0]+1) {
			t.Fatalf("csv line %d = %v", j, row)
		}
		want := int16(row[0])
		switch {
		case j > 0:
			want = int16(ev.samples[j-1][0] + 1)
		case prev.samples != nil:
			want = int16(prev.samples[len(prev.samples)-1][0] + 1)
		}
		if int16(row[0]) != want {
			t.Fatalf("csv line %d = %v, want ch0 %d", j, row, want)
		}
	}
}

// A client that disconnects and resumes with ?since loses nothing.
func TestEndToEndResumeLosesNothing(t *testing.T) {
	link := startSimPTY(t, simConfig(), 0)
	ws, _ := startServe(t, ptyOptions(link))
	c := testsupport.Dial(t, ws, nil)
	expectHello(t, c, "binary")
	var last uint32
	for n := 0; n < 20; n++ {
		last = nextFrame(t, c).seq
	}
	c.Close(websocket.StatusNormalClosure, "wifi drop")
	time.Sleep(300 * time.Millisecond) // about 30 frames go by
	r := testsupport.Dial(t, fmt.Sprintf("%s?since=%d", ws, last+1), nil)
	if h := expectHello(t, r, "binary"); h.StartSeq != last+1 || h.Seq < last+20 {
		t.Fatalf("hello after resume: %+v", h)
	}
	for want := last + 1; want < last+60; want++ {
		ev := nextFrame(t, r)
		if ev.seq != want {
			t.Fatalf("resumed: frame %d, want %d", ev.seq, want)
		}
		checkCounterFrame(t, ev)
	}
}

// Issue 13.1's reproduction: serve and its device restart on the same
// address; a client resuming with the old epoch and a since ahead of the
// new count is told at once (a restart status with the new epoch, not a
// wait for its since), then gets the new device's frames from its first
// one, exactly. A client resuming in the new epoch continues exactly.
func TestEndToEndServeRestartEpoch(t *testing.T) {
	o := DefaultOptions()
	o.Sim, o.SimCfg = true, simConfig()
	ws, stop := startServe(t, o)
	c := testsupport.Dial(t, ws, nil)
	old := expectHello(t, c, "binary")
	if len(old.Epoch) != 8 || old.Channel != "sim" {
		t.Fatalf("hello epoch %q channel %q", old.Epoch, old.Channel)
	}
	var last uint32
	for n := 0; n < 40; n++ { // 0.4 s at 100 frames/s
		last = nextFrame(t, c).seq
	}
	c.CloseNow()
	if err := stop(); err != nil {
		t.Fatal(err)
	}

	o.Relay.Listen = strings.TrimPrefix(strings.TrimSuffix(ws, "/ws"), "ws://") // the same address
	ws2, _ := startServe(t, o)
	r := testsupport.Dial(t, fmt.Sprintf("%s?since=%d&epoch=%s", ws2, last+1, old.Epoch), nil)
	h := expectHello(t, r, "binary")
	if h.Epoch == old.Epoch || len(h.Epoch) != 8 || h.Seq >= last+1 {
		t.Fatalf("hello after the restart: %+v (old epoch %s, since %d)", h, old.Epoch, last+1)
	}
	ev := next(t, r) // at once: on the old protocol this was a wait, then frame last+1
	if ev.typ != wsproto.TypeStatus || ev.status.State != wsproto.StateRestart || ev.status.Epoch != h.Epoch || ev.status.Seq != 0 {
		t.Fatalf("first message after hello: %s; want a restart status at seq 0 in epoch %s", ev.raw, h.Epoch)
	}
	var seq uint32
	for seq = 0; seq < last+10; seq++ { // the new device's first frames all arrive
		ev := nextFrame(t, r)
		if ev.seq != seq {
			t.Fatalf("after the restart: frame %d, want %d", ev.seq, seq)
		}
		checkCounterFrame(t, ev)
	}
	r.CloseNow()

	same := testsupport.Dial(t, fmt.Sprintf("%s?since=%d&epoch=%s", ws2, seq, h.Epoch), nil)
	if h2 := expectHello(t, same, "binary"); h2.Epoch != h.Epoch || h2.StartSeq != seq {
		t.Fatalf("same-epoch resume: hello %+v, want start_seq %d in %s", h2, seq, h.Epoch)
	}
	for want := seq; want < seq+10; want++ {
		if ev := nextFrame(t, same); ev.seq != want {
			t.Fatalf("same-epoch resume: frame %d, want %d", ev.seq, want)
		}
	}
}

// With --allow-commands a client's command reaches the simulated device
// and its reply comes back to the client.
func TestEndToEndCommand(t *testing.T) {
	link := startSimPTY(t, simConfig(), 0)
	o := ptyOptions(link)
	o.Relay.AllowCommands = true
	ws, _ := startServe(t, o)
	c := testsupport.Dial(t, ws+"?format=json", nil)
	if h := expectHello(t, c, "json"); !h.Commands {
		t.Fatal("hello.commands = false with --allow-commands")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.Write(ctx, websocket.MessageText, []byte(`{"type":"command","line":"info"}`)); err != nil {
		t.Fatal(err)
	}
	gotInfo := false
	for {
		ev := next(t, c)
		switch ev.typ {
		case wsproto.TypeInfo:
			gotInfo = true
		case wsproto.TypeReply:
			if !ev.reply.OK || ev.reply.Text != "info" || !gotInfo {
				t.Fatalf("reply %s (info before it: %v)", ev.raw, gotInfo)
			}
			return
		case "frame":
		default:
			t.Fatalf("unexpected %s", ev.raw)
		}
	}
}

// A USB unplug and replug (the simulator removes its pty): clients stay
// connected, see the device go down and come back, and get the exact
// range of frames lost meanwhile.
func TestEndToEndUnplug(t *testing.T) {
	if testing.Short() {
		t.Skip("unplug cycle takes about 2 s")
	}
	link := startSimPTY(t, simConfig(), 700*time.Millisecond)
	ws, _ := startServe(t, ptyOptions(link))
	c := testsupport.Dial(t, ws, nil)
	expectHello(t, c, "binary")
	var last uint32
	var sawDown, sawUp bool
	var gap *wsproto.Gap
	for after := 0; after < 10; {
		ev := next(t, c)
		switch ev.typ {
		case "frame":
			if gap != nil {
				after++
			}
			if last != 0 && ev.seq != last+1 {
				t.Fatalf("frame %d after %d with no gap message", ev.seq, last)
			}
			checkCounterFrame(t, ev)
			last = ev.seq
		case wsproto.TypeStatus:
			sawDown = sawDown || ev.status.State == wsproto.StateDown
			sawUp = sawUp || ev.status.State == wsproto.StateUp && sawDown
		case wsproto.TypeGap:
			g := ev.gap
			if g.Reason != wsproto.GapDevice || g.From != last+1 || g.Count != uint64(g.To-g.From)+1 || !sawDown {
				t.Fatalf("gap %+v after frame %d (down seen: %v)", g, last, sawDown)
			}
			gap, last = &g, g.To
		case wsproto.TypeInfo, wsproto.TypeLog:
		default:
			t.Fatalf("unexpected %s", ev.raw)
		}
	}
	if !sawUp || gap == nil {
		t.Fatalf("down %v up %v gap %v", sawDown, sawUp, gap)
	}
}

// Stopping serve closes clients with 1001 and Run returns nil.
func TestEndToEndShutdown(t *testing.T) {
	o := DefaultOptions()
	o.Sim, o.SimCfg = true, simConfig()
	ws, stop := startServe(t, o)
	c := testsupport.Dial(t, ws+"?format=csv", nil)
	expectHello(t, c, "csv")
	nextFrame(t, c)
	errc := make(chan error, 1)
	go func() { errc <- stop() }()
	var err error
	for err == nil {
		_, _, err = c.Read(context.Background())
	}
	if websocket.CloseStatus(err) != websocket.StatusGoingAway {
		t.Fatalf("client ended with %v, want 1001", err)
	}
	if err := <-errc; err != nil {
		t.Fatalf("Run: %v", err)
	}
}

func TestRunErrors(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	bad := DefaultOptions()
	bad.Sim, bad.SimCfg = true, simConfig()
	bad.SimCfg.Rate = 0
	busy := DefaultOptions()
	busy.Sim, busy.SimCfg, busy.Relay.Listen = true, simConfig(), ln.Addr().String()
	missing := DefaultOptions()
	missing.Capture.Port = filepath.Join(t.TempDir(), "ttyNONE")
	missing.Relay.Listen = "127.0.0.1:0"
	slow := DefaultOptions()
	slow.Sim, slow.SimCfg, slow.Relay.SlowClient = true, simConfig(), "drop"
	for _, tc := range []struct {
		name string
		o    Options
		is   error
		text string
	}{
		{"bad sim", bad, ErrConfig, "rate: must be"},
		{"bad relay", slow, ErrConfig, `--slow-client "drop"`},
		{"address in use", busy, relay.ErrListen, "failed to listen on " + ln.Addr().String()},
		{"no device", missing, capture.ErrNotFound, "ttyNONE"},
	} {
		err := Run(context.Background(), tc.o)
		if !errors.Is(err, tc.is) || !strings.Contains(err.Error(), tc.text) {
			t.Errorf("%s: Run = %v, want %v containing %q", tc.name, err, tc.is, tc.text)
		}
	}
}

// Boot garbage and corrupted bytes on the line: every frame a client gets
// is intact (exact counter samples), every hole is announced as an exact
// device gap, and the metrics count the damage.
func TestEndToEndCorruptionNeverForwarded(t *testing.T) {
	cfg := simConfig()
	cfg.BootGarbage, cfg.CorruptRate = true, 2e-4 // about one frame in 8 damaged
	link := startSimPTY(t, cfg, 0)
	ws, _ := startServe(t, ptyOptions(link))
	c := testsupport.Dial(t, ws, nil)
	expectHello(t, c, "binary")
	var last uint32
	frames, gaps := 0, 0
	for frames < 100 {
		ev := next(t, c)
		switch ev.typ {
		case "frame":
			if frames > 0 && ev.seq != last+1 {
				t.Fatalf("frame %d after %d without a gap message", ev.seq, last)
			}
			checkCounterFrame(t, ev)
			last, frames = ev.seq, frames+1
		case wsproto.TypeGap:
			if g := ev.gap; g.Reason != wsproto.GapDevice || frames > 0 && g.From != last+1 || g.Count != uint64(g.To-g.From)+1 {
				t.Fatalf("gap %s after frame %d", ev.raw, last)
			}
			last, gaps = ev.gap.To, gaps+1
		case wsproto.TypeInfo, wsproto.TypeLog:
		default:
			t.Fatalf("unexpected %s", ev.raw)
		}
	}
	m := metrics(t, ws)
	if gaps == 0 || m["wsbridge_serial_crc_errors_total"]+m["wsbridge_serial_malformed_total"] == 0 || m["wsbridge_serial_noise_bytes_total"] == 0 {
		t.Fatalf("gaps %d, metrics %v", gaps, m)
	}
}

// metrics scrapes the /metrics of the serve whose WebSocket URL is ws.
func metrics(t *testing.T, ws string) map[string]float64 {
	t.Helper()
	return testsupport.ParseMetrics(testsupport.MetricsText(t, strings.Replace(strings.TrimSuffix(ws, "/ws"), "ws://", "http://", 1)))
}
