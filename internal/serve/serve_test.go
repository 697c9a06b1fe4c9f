package serve

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/rs/zerolog"

	"github.com/wsbridge/wsbridge/internal/adcsim"
	"github.com/wsbridge/wsbridge/internal/frame"
	"github.com/wsbridge/wsbridge/internal/testsupport"
	"github.com/wsbridge/wsbridge/internal/wsproto"
)

// Simulated stream: counter, 2 channels of i16, 16 kHz, 160 samples per
// frame (100 frames/s).
const (
	simRate  = 16000
	simChans = 2
	simFS    = 160
)

func simConfig() adcsim.Config {
	c := adcsim.DefaultConfig()
	c.Signal, c.Rate, c.Channels, c.SampleType, c.FrameSamples, c.Seed = "counter", simRate, simChans, "i16", simFS, 1
	return c
}

func testLog() zerolog.Logger {
	if os.Getenv("SERVE_TEST_LOG") != "" {
		return zerolog.New(zerolog.ConsoleWriter{Out: os.Stderr}).With().Timestamp().Logger()
	}
	return zerolog.Nop()
}

// startSimPTY runs the simulator on a real pty (wsbridge sim) and returns
// the stable link to it.
func startSimPTY(t *testing.T, cfg adcsim.Config, unplugEvery time.Duration) string {
	t.Helper()
	link := filepath.Join(t.TempDir(), "ttySIM")
	cfg.UnplugEvery, cfg.UnplugPause = unplugEvery, 300*time.Millisecond
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- adcsim.Serve(ctx, adcsim.Options{Config: cfg, Link: link, Out: io.Discard}) }()
	t.Cleanup(func() { cancel(); <-done })
	deadline := time.Now().Add(5 * time.Second)
	for {
		if _, err := os.Stat(link); err == nil {
			return link
		}
		if time.Now().After(deadline) {
			t.Fatal("simulator pty did not appear")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// startServe runs serve.Run and returns the /ws URL it prints, and a stop
// function that cancels it and returns Run's error.
func startServe(t *testing.T, o Options) (string, func() error) {
	t.Helper()
	if o.Relay.Listen == DefaultOptions().Relay.Listen {
		o.Relay.Listen = "127.0.0.1:0"
	}
	o.Log = testLog()
	s := testsupport.StartServe(t, func(ctx context.Context, out io.Writer) error {
		o.Out = out
		return Run(ctx, o)
	})
	waitDevice(t, s.WS)
	return s.WS, s.Stop
}

// event is one decoded server message.
type event struct {
	typ     string
	seq     uint32
	samples [][]int64 // [instant][channel]
	gap     wsproto.Gap
	status  wsproto.Status
	hello   wsproto.Hello
	reply   wsproto.Reply
	raw     string
}

func next(t *testing.T, c *websocket.Conn) event {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	typ, b, err := c.Read(ctx)
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	if typ == websocket.MessageBinary {
		var p frame.Packet
		if err := frame.Parse(&p, b); err != nil {
			t.Fatalf("binary message: %v", err)
		}
		ev := event{typ: "frame", seq: p.Frame.Seq}
		for i := 0; i < int(p.Frame.Count); i++ {
			row := []int64{}
			for ch := 0; ch < int(p.Frame.Channels); ch++ {
				row = append(row, p.Frame.Int(i, ch))
			}
			ev.samples = append(ev.samples, row)
		}
		return ev
	}
	return decodeText(t, b)
}

func decodeText(t *testing.T, b []byte) event {
	ev := event{raw: string(b)}
	if b[0] != '{' {
		ev.typ = "csv"
		for _, line := range strings.Split(strings.TrimSuffix(string(b), "\n"), "\n") {
			row := []int64{}
			for _, v := range strings.Split(line, ",") {
				var n int64
				if err := json.Unmarshal([]byte(v), &n); err != nil {
					t.Fatalf("csv %q: %v", b, err)
				}
				row = append(row, n)
			}
			ev.samples = append(ev.samples, row)
		}
		return ev
	}
	var p struct {
		Type    string    `json:"type"`
		Seq     uint32    `json:"seq"`
		Samples [][]int64 `json:"samples"`
	}
	if err := json.Unmarshal(b, &p); err != nil {
		t.Fatalf("text %q: %v", b, err)
	}
	ev.typ, ev.seq = p.Type, p.Seq
	for i := 0; p.Type == "frame" && i < len(p.Samples[0]); i++ {
		row := []int64{}
		for ch := range p.Samples {
			row = append(row, p.Samples[ch][i])
		}
		ev.samples = append(ev.samples, row)
	}
	for typ, dst := range map[string]any{wsproto.TypeGap: &ev.gap, wsproto.TypeStatus: &ev.status,
		wsproto.TypeHello: &ev.hello, wsproto.TypeReply: &ev.reply} {
		if p.Type == typ {
			_ = json.Unmarshal(b, dst)
		}
	}
	return ev
}

// counter is the value of the simulator's counter signal at running
// sample index i on channel ch (i16).
func counter(i uint64, ch int) int64 { return int64(int16(i + uint64(ch))) }

// checkCounterFrame checks frame seq carries running indexes seq*simFS on.
func checkCounterFrame(t *testing.T, ev event) {
	t.Helper()
	if len(ev.samples) != simFS {
		t.Fatalf("frame %d has %d instants, want %d", ev.seq, len(ev.samples), simFS)
	}
	for j, row := range ev.samples {
		for ch, v := range row {
			if w := counter(uint64(ev.seq)*simFS+uint64(j), ch); v != w {
				t.Fatalf("frame %d instant %d ch %d = %d, want %d", ev.seq, j, ch, v, w)
			}
		}
	}
}

// waitDevice polls /api/info until the device has described itself and
// frames flow, so that hellos are complete.
func waitDevice(t *testing.T, ws string) {
	t.Helper()
	info := strings.Replace(strings.TrimSuffix(ws, "/ws"), "ws://", "http://", 1) + "/api/info"
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get(info)
		if err == nil {
			var in struct {
				Device *wsproto.Device `json:"device"`
				Seq    uint32          `json:"seq"`
			}
			err = json.NewDecoder(resp.Body).Decode(&in)
			resp.Body.Close()
			if err == nil && in.Device != nil && in.Seq > 0 {
				return
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("the device did not describe itself within 5 s")
}
