package serve

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"gopkg.in/yaml.v3"

	"github.com/wsbridge/wsbridge/internal/frame"
	"github.com/wsbridge/wsbridge/internal/testsupport"
	"github.com/wsbridge/wsbridge/internal/wifisim"
)

func TestParseNetworkDevices(t *testing.T) {
	d, err := ParseDevice("garden=network:token=s3cret,input=json,rate=100")
	if err != nil || d.Network == nil || d.Network.Token != "s3cret" || d.Network.Input != "json" || d.Network.Rate != 100 {
		t.Fatalf("network: %+v %v", d.Network, err)
	}
	d, err = ParseDevice("mic=pull:ws://esp32-mic.local:81/,input=v1")
	if err != nil || d.Pull == nil || d.Pull.URL != "ws://esp32-mic.local:81/" || d.Pull.Input != "v1" {
		t.Fatalf("pull: %+v %v", d.Pull, err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(`
- {name: garden, network: true, token: t1, input: auto, history: 10s}
- {input: json, name: mic, pull: "ws://esp32-mic.local:81/"}
`), &doc); err != nil {
		t.Fatal(err)
	}
	ds, err := ParseDevices(doc.Content[0])
	if err != nil || len(ds) != 2 || ds[0].Network == nil || ds[0].History != 10*time.Second || ds[1].Pull == nil || ds[1].Pull.Input != "json" {
		t.Fatalf("YAML: %+v %v", ds, err)
	}
	var out bytes.Buffer
	if err := DumpDevices(&out, ds); err != nil {
		t.Fatal(err)
	}
	if s := out.String(); strings.Contains(s, "t1") || !strings.Contains(s, "token: REDACTED") || !strings.Contains(s, "pull: ws://esp32-mic.local:81/") {
		t.Fatalf("dump shows the token or misses a device:\n%s", s)
	}
	for spec, says := range map[string]string{
		"garden=network":                       "--device garden: token: missing: a network device needs its own token",
		"garden=network:token=t,input=xml":     "--device garden: input: input \"xml\": want auto, v1, text or json",
		"garden=network:token=t,port=/dev/tty": "--device garden: port: unknown key",
		"mic=pull:esp32.local:81":              "--device mic: pull: pull: want ws://HOST[:PORT]/PATH",
		"mic=pull:":                            "pull: needs the board's URL",
	} {
		if _, err := ParseDevice(spec); err == nil || !strings.Contains(err.Error(), says) {
			t.Errorf("%s: %v, want %q", spec, err, says)
		}
	}
	if err := yaml.Unmarshal([]byte(`[{name: garden, network: true, token: t, port: /dev/ttyUSB0}]`), &doc); err != nil {
		t.Fatal(err)
	}
	if _, err := ParseDevices(doc.Content[0]); err == nil || !strings.Contains(err.Error(), "devices[0].port: unknown key") {
		t.Errorf("network with a port: %v", err)
	}
	a, _ := ParseDevice("a=network:token=same")
	b, _ := ParseDevice("b=network:token=same")
	if err := checkTokens([]Device{a, b}, "subs"); err == nil || !strings.Contains(err.Error(), "--device b: token: the same as --device a's") {
		t.Errorf("two devices, one token: %v", err)
	}
	if err := checkTokens([]Device{a}, "same"); err == nil || !strings.Contains(err.Error(), "the same as --token, the subscribers' token") {
		t.Errorf("the subscribers' token: %v", err)
	}
}

// jsonBoard is a tutorial sketch's server: {"value": N} every period.
func jsonBoard(t *testing.T, period time.Duration) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer c.CloseNow()
		go c.Read(r.Context()) // answer pings
		for n := 1; ; n++ {
			if c.Write(r.Context(), websocket.MessageText, fmt.Appendf(nil, `{"value": %d}`, n)) != nil {
				return
			}
			time.Sleep(period)
		}
	})}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return "ws://" + ln.Addr().String() + "/"
}

// TestServeNetworkDevices: serve with a network device (a simulated Wi-Fi
// board publishing on /pub/garden, its connection cut now and then), a
// pulled device (a JSON-broadcasting board) and the simulator: each
// channel's stream is its device's, the board's exact through the cuts,
// and a command reaches the Wi-Fi board.
func TestServeNetworkDevices(t *testing.T) {
	gardenDev, _ := ParseDevice("garden=network:token=garden-token")
	boardDev, _ := ParseDevice("board=pull:" + jsonBoard(t, 5*time.Millisecond))
	demoDev, _ := ParseDevice("demo=sim:signal=counter,rate=1000")
	o := DefaultOptions()
	o.Devices = []Device{gardenDev, boardDev, demoDev}
	o.Relay.Token, o.Relay.AllowCommands = "sub-token", true
	s := startServeRaw(t, o)
	base := strings.TrimSuffix(s.WS, "/ws/garden")
	if !strings.HasSuffix(s.WS, "/ws/garden") {
		base = s.WS[:strings.Index(s.WS, "/ws")]
	}
	hdr := http.Header{"Authorization": {"Bearer sub-token"}}
	garden, board, demo := collect(t, base+"/ws/garden", hdr), collect(t, base+"/ws/board", hdr), collect(t, base+"/ws/demo", hdr)

	bo := wifisim.DefaultOptions()
	bo.URL, bo.Token = base+"/pub/garden", "garden-token"
	bo.Device.Signal, bo.Device.Rate, bo.Device.FrameSamples, bo.Device.MaxLag = "counter", 4000, 40, time.Minute
	bo.Faults.CutEvery = 400 * time.Millisecond
	b, _ := runBoard(t, bo)
	testsupport.WaitFor(t, 20*time.Second, "frames on every channel and 3 reconnects", func() bool {
		return len(garden.get()) >= 150 && len(board.get()) >= 20 && len(demo.get()) >= 20 && b.Stats().Connects >= 3
	})
	if e := b.Stats().Epoch; e == "" || !strings.Contains(garden.texts(), `"epoch":"`+e+`"`) {
		t.Fatalf("the board's greeting named epoch %q, not the channel's (%s)", e, garden.texts()[:min(300, len(garden.texts()))])
	}
	if err := garden.conn.Write(t.Context(), websocket.MessageText, []byte(`{"type":"command","line":"rate 2000"}`)); err != nil {
		t.Fatal(err)
	}
	testsupport.WaitFor(t, 10*time.Second, "the Wi-Fi board's reply and frames at its new rate", func() bool {
		fs := garden.get()
		return strings.Contains(garden.texts(), `"type":"reply","ok":true,"text":"rate 2000"`) && fs[len(fs)-1].Rate == 2000
	})
	fs := garden.get()
	k := fs[0].Int(0, 0)
	for i, f := range fs {
		if i > 0 && f.Seq != fs[i-1].Seq+1 {
			t.Fatalf("garden: seq %d after %d across %d cuts", f.Seq, fs[i-1].Seq, b.Stats().Proxy.Cut)
		}
		for j := 0; j < int(f.Count); j++ {
			if v := f.Int(j, 0); v != int64(int16(k)) {
				t.Fatalf("garden: seq %d sample %d = %d, want %d", f.Seq, j, v, int16(k))
			}
			k++
		}
	}
	bs := board.get()
	for i := 1; i < len(bs); i++ {
		if bs[i].Seq != bs[i-1].Seq+1 || bs[i].Int(0, 0) != bs[i-1].Int(0, 0)+1 {
			t.Fatalf("board: frame %d seq %d value %d after seq %d value %d", i, bs[i].Seq, bs[i].Int(0, 0), bs[i-1].Seq, bs[i-1].Int(0, 0))
		}
	}
}

// collector keeps what one /ws client received.
type collector struct {
	conn *websocket.Conn
	mu   sync.Mutex
	fs   []frame.Frame
	txt  []string
}

func collect(t *testing.T, url string, hdr http.Header) *collector {
	c := &collector{conn: testsupport.Dial(t, url, hdr)}
	go func() {
		for {
			typ, b, err := c.conn.Read(context.Background())
			if err != nil {
				return
			}
			c.mu.Lock()
			var p frame.Packet
			if typ == websocket.MessageBinary && frame.Parse(&p, b) == nil {
				c.fs = append(c.fs, p.Clone().Frame)
			} else if typ == websocket.MessageText {
				c.txt = append(c.txt, string(b))
			}
			c.mu.Unlock()
		}
	}()
	return c
}

func (c *collector) get() []frame.Frame {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]frame.Frame(nil), c.fs...)
}

func (c *collector) texts() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return strings.Join(c.txt, "|")
}

// TestServeNetworkBoardReboot: a Wi-Fi board that comes back with a new
// boot id starts a new epoch of its channel, named as a reboot (the
// source's Restart reaches the channel through the supervisor).
func TestServeNetworkBoardReboot(t *testing.T) {
	gardenDev, _ := ParseDevice("garden=network:token=garden-token")
	o := DefaultOptions()
	o.Devices = []Device{gardenDev}
	s := startServeRaw(t, o)
	base := s.WS[:strings.Index(s.WS, "/ws")]
	garden := collect(t, base+"/ws/garden", nil)
	run := func(boot string, frames int) {
		bo := wifisim.DefaultOptions()
		bo.URL, bo.Token, bo.Boot = base+"/pub/garden", "garden-token", boot
		bo.Device.Signal, bo.Device.Rate, bo.Device.FrameSamples, bo.Device.MaxLag = "counter", 4000, 40, time.Minute
		_, stop := runBoard(t, bo)
		testsupport.WaitFor(t, 20*time.Second, fmt.Sprintf("%d frames on garden", frames), func() bool { return len(garden.get()) >= frames })
		stop()
	}
	run("b1b1b1b1", 20)
	run("b2b2b2b2", len(garden.get())+20)
	if txt := garden.texts(); !strings.Contains(txt, `"state":"restart","reason":"the device rebooted (boot b2b2b2b2, was b1b1b1b1)"`) {
		t.Fatalf("no restart naming the reboot in %s", txt[:min(2000, len(txt))])
	}
}

// runBoard runs a simulated Wi-Fi board (sim --publish's code) with o
// until stop (idempotent) or the end of the test.
func runBoard(t *testing.T, o wifisim.Options) (b *wifisim.Board, stop func()) {
	t.Helper()
	b, err := wifisim.New(o)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); b.Run(ctx) }()
	stop = sync.OnceFunc(func() { cancel(); <-done })
	t.Cleanup(stop)
	return b, stop
}
