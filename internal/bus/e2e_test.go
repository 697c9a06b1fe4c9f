package bus_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"

	"github.com/wsbridge/wsbridge/internal/adcsim"
	"github.com/wsbridge/wsbridge/internal/bus"
	"github.com/wsbridge/wsbridge/internal/bus/natstest"
	"github.com/wsbridge/wsbridge/internal/frame"
	"github.com/wsbridge/wsbridge/internal/relay"
	"github.com/wsbridge/wsbridge/internal/serve"
	"github.com/wsbridge/wsbridge/internal/testsupport"
	"github.com/wsbridge/wsbridge/internal/wsproto"
)

// The simulated device: a counter, so that every lost or repeated sample
// shows. Sample j of frame seq s is int16(s*frameSamples + j) (one channel).
const (
	simRate      = 64000 // 400 frames a second: the tests read in a quarter of the time
	frameSamples = 160   // 10 ms
)

func counterConfig() adcsim.Config {
	c := adcsim.DefaultConfig()
	c.Signal, c.Rate, c.Channels, c.SampleType, c.FrameSamples, c.Seed = "counter", simRate, 1, "i16", frameSamples, 1
	return c
}

// device runs the simulator on a pty at a stable link until stop (or the
// test's end); starting it again on the same link is a device that
// restarted its count.
type device struct {
	link string
	stop func()
}

func startDevice(t *testing.T, link string) *device {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- adcsim.Serve(ctx, adcsim.Options{Config: counterConfig(), Link: link, Out: io.Discard})
	}()
	d := &device{link: link, stop: once(func() { cancel(); <-done })}
	t.Cleanup(d.stop)
	testsupport.WaitFor(t, 5*time.Second, "the simulator's pty", func() bool { _, err := os.Stat(link); return err == nil })
	return d
}

// once makes f run once, however often it is called (from one goroutine).
func once(f func()) func() {
	done := false
	return func() {
		if !done {
			done = true
			f()
		}
	}
}

func quietLog(t *testing.T) zerolog.Logger {
	if os.Getenv("BUS_TEST_LOG") != "" {
		return zerolog.New(zerolog.NewTestWriter(t)).With().Timestamp().Logger()
	}
	return zerolog.Nop()
}

// startServe runs serve with --bus urls as site, publishing the device at
// port ("" for a front-end with no device of its own).
func startServe(t *testing.T, urls, site, port string, edit func(*serve.Options)) *testsupport.Served {
	t.Helper()
	o := serve.DefaultOptions()
	o.Relay.Listen, o.Relay.History = "127.0.0.1:0", 30*time.Second
	o.Capture.Port, o.Capture.Input = port, "frames"
	o.Bus = bus.Config{URL: bus.URLList{urls}, Site: site}
	o.Log = quietLog(t).With().Str("serve", site).Logger()
	if edit != nil {
		edit(&o)
	}
	return testsupport.StartServe(t, func(ctx context.Context, out io.Writer) error {
		o.Out = out
		return serve.Run(ctx, o)
	})
}

// siteAndFront starts a simulated device, serve a publishing it as site
// lab1 and serve b, a front-end edited by editFront (nil: as is), on the
// bus at urls, and waits until b has the channel.
func siteAndFront(t *testing.T, urls string, editFront func(*serve.Options)) (dev *device, a, b *testsupport.Served) {
	t.Helper()
	link := filepath.Join(t.TempDir(), "ttySIM")
	dev = startDevice(t, link)
	a = startServe(t, urls, "lab1", link, nil)
	b = startServe(t, urls, "front", "", editFront)
	waitChannel(t, b.URL, "serial")
	return dev, a, b
}

// waitChannel waits until the serve at base (http://...) lists channel
// name with its device up and frames in its history.
func waitChannel(t testing.TB, base, name string) {
	t.Helper()
	testsupport.WaitFor(t, 20*time.Second, "channel "+name+" on "+base, func() bool {
		resp, err := http.Get(base + "/api/channels")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		var l relay.List
		if json.NewDecoder(resp.Body).Decode(&l) != nil {
			return false
		}
		for _, c := range l.Channels {
			if c.Name == name && c.DeviceState == wsproto.StateUp && c.History.Frames > 0 {
				return true
			}
		}
		return false
	})
}

// client reads one channel in one format and checks every sample against
// the counter: frames in order, each exactly once, or named by a gap.
type client struct {
	t      *testing.T
	name   string
	format string
	c      *websocket.Conn
	epoch  wsproto.Epoch
	next   uint32 // seq of the next frame expected
	frames int
	gaps   []wsproto.Gap
	stats  []wsproto.Status // restarts and state changes seen
}

func dialClient(t *testing.T, wsBase, channel, format string, resume *client) *client {
	t.Helper()
	url := strings.TrimSuffix(wsBase, "/ws") + "/ws/" + channel + "?format=" + format
	cl := &client{t: t, name: format, format: format}
	if resume != nil {
		url += fmt.Sprintf("&since=%d&epoch=%s", resume.next, resume.epoch)
		*cl = *resume
	}
	cl.c = testsupport.Dial(t, url, nil)
	h := testsupport.ExpectHello(t, cl.c)
	if resume == nil {
		cl.epoch, cl.next = h.Epoch, h.StartSeq
	} else if h.Epoch != resume.epoch || h.StartSeq != resume.next {
		t.Fatalf("%s: resumed at %s/%d, hello says epoch %s start %d", cl.name, resume.epoch, resume.next, h.Epoch, h.StartSeq)
	}
	return cl
}

// read reads until n more frames arrived.
func (cl *client) read(n int) {
	cl.t.Helper()
	for want := cl.frames + n; cl.frames < want; {
		if err := cl.readOne(30 * time.Second); err != nil { // generous: failovers on a loaded 2-core machine
			cl.t.Fatalf("%s after %d frames (next %s/%d): %v", cl.name, cl.frames, cl.epoch, cl.next, err)
		}
	}
}

func (cl *client) readOne(d time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	typ, b, err := cl.c.Read(ctx)
	if err != nil {
		return err
	}
	if typ == websocket.MessageBinary {
		var p frame.Packet
		if err := frame.Parse(&p, b); err != nil {
			return err
		}
		return cl.frame(p.Frame.Seq, &p.Frame, nil)
	}
	if len(b) > 0 && b[0] != '{' { // csv: one message per frame, no seq
		return cl.frame(cl.next, nil, b)
	}
	var m struct {
		Type  string        `json:"type"`
		Epoch wsproto.Epoch `json:"epoch"`
		Seq   uint32        `json:"seq"`
		wsproto.Gap
		State   string    `json:"state"`
		Samples [][]int64 `json:"samples"`
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return fmt.Errorf("%q: %w", b, err)
	}
	switch m.Type {
	case wsproto.TypeFrame:
		if m.Epoch != cl.epoch {
			return fmt.Errorf("frame of epoch %s in epoch %s: %s", m.Epoch, cl.epoch, b)
		}
		f := frame.Frame{Seq: m.Seq, Channels: 1, SampleType: frame.I16, Count: uint16(len(m.Samples[0]))}
		f.Data = make([]byte, f.PayloadSize())
		for i, v := range m.Samples[0] {
			f.PutInt(i, 0, v)
		}
		return cl.frame(m.Seq, &f, nil)
	case wsproto.TypeGap:
		if m.Gap.From != cl.next {
			return fmt.Errorf("gap %d..%d where %d was next", m.Gap.From, m.Gap.To, cl.next)
		}
		cl.gaps = append(cl.gaps, m.Gap)
		cl.next = m.Gap.To + 1
	case wsproto.TypeStatus:
		var st wsproto.Status
		_ = json.Unmarshal(b, &st)
		cl.stats = append(cl.stats, st)
		if st.State == wsproto.StateRestart {
			cl.epoch, cl.next = st.Epoch, st.Seq
		}
	}
	return nil
}

// frame checks one frame: the expected seq, and its samples (csv: the text).
func (cl *client) frame(seq uint32, f *frame.Frame, csv []byte) error {
	if seq != cl.next {
		return fmt.Errorf("frame %d where %d was next", seq, cl.next)
	}
	base := int64(seq) * frameSamples
	if csv != nil {
		lines := strings.Split(strings.TrimSpace(string(csv)), "\n")
		for j, l := range lines {
			v, err := strconv.ParseInt(strings.TrimSpace(l), 10, 64)
			if err != nil || v != int64(int16(base+int64(j))) {
				return fmt.Errorf("csv frame %d line %d %q, want %d", seq, j, l, int16(base+int64(j)))
			}
		}
	} else {
		for j := range int(f.Count) {
			if v := f.Int(j, 0); v != int64(int16(base+int64(j))) {
				return fmt.Errorf("frame %d sample %d = %d, want %d", seq, j, v, int16(base+int64(j)))
			}
		}
	}
	cl.next, cl.frames = seq+1, cl.frames+1
	return nil
}

// long skips a whole-serve test under -short (CI's race run): two serves,
// a simulator on a pty at 400 frames a second and a NATS topology are
// seconds of timing-sensitive work on a loaded 2-core machine, all the
// more under the race detector. `go test ./...` runs them.
func long(t *testing.T) {
	if testing.Short() {
		t.Skip("a whole-serve bus test: run without -short")
	}
}

// busLoss reports a gap the bus made: any but a device gap. A device gap
// is the origin's own (the simulator on a pty loses frames when serve is
// starved on a loaded machine) and its clients see it too.
func busLoss(cl *client) bool {
	for _, g := range cl.gaps {
		if g.Reason != wsproto.GapDevice {
			return true
		}
	}
	return false
}

// Two serve nodes and a 3-node NATS cluster (replicas 3): the device on
// A, clients on B in every format get exact frames; a NATS node dies:
// nothing lost; B dies: its clients resume on A, nothing lost.
func TestTwoServesThreeNATS(t *testing.T) {
	long(t)
	t0 := time.Now()
	step := func(what string) { t.Logf("%6.2fs %s", time.Since(t0).Seconds(), what) }
	nc := natsCluster(t)
	step("cluster up")
	replicas3 := func(o *serve.Options) { o.Bus.Stream.Replicas = 3 }
	link := filepath.Join(t.TempDir(), "ttySIM")
	startDevice(t, link)
	a := startServe(t, nc.URL(), "lab1", link, replicas3)
	b := startServe(t, nc.URL(), "front", "", replicas3)
	waitChannel(t, b.URL, "serial")
	step("B serves the channel")
	var cls []*client
	for _, f := range []string{relay.FormatBinary, relay.FormatJSON, relay.FormatCSV} {
		cls = append(cls, dialClient(t, b.WS, "serial", f, nil))
	}
	for _, cl := range cls {
		cl.read(100)
	}

	step("read 100 frames")
	leader := nc.WaitStreamLeader(t, "wsbridge_serial")
	leader.Stop() // a NATS node dies
	for _, cl := range cls {
		cl.read(150)
	}
	step("read 150 frames with a NATS node down")
	leader.Start()

	stopped := make(chan error, 1)
	go func() { stopped <- b.Stop() }() // a serve node dies (SIGTERM)
	for _, cl := range cls {
		for cl.readOne(10*time.Second) == nil { // what B sent before it went
		}
	}
	if err := <-stopped; err != nil {
		t.Fatal(err)
	}
	step("B stopped")
	for i, cl := range cls {
		cls[i] = dialClient(t, a.WS, "serial", cl.format, cl) // resume on A
		cls[i].read(100)
	}
	step("resumed on A and read 100 frames")
	for _, cl := range cls {
		if busLoss(cl) {
			t.Fatalf("%s: gaps %+v", cl.name, cl.gaps)
		}
	}
}

func natsCluster(t *testing.T) *natstest.Cluster { return natstest.RunCluster(t, 3) }

func busState(t *testing.T, s *testsupport.Served) bus.NodeHealth {
	var h struct {
		Bus bus.NodeHealth `json:"bus"`
	}
	testsupport.GetJSON(t, s.URL+"/healthz", &h)
	return h.Bus
}

func metric(t *testing.T, s *testsupport.Served, line string) bool {
	return strings.Contains(testsupport.MetricsText(t, s.URL), "\n"+line+"\n")
}

// The bus unreachable at start: serve serves its channel, says bus down
// in /healthz and /metrics, and publishes from its ring once the bus is
// there: a client of another node resuming from the first frame loses
// nothing.
func TestServeBusUnreachableAtStart(t *testing.T) {
	n := natstest.NewServer(t)
	link := filepath.Join(t.TempDir(), "ttySIM")
	startDevice(t, link)
	a := startServe(t, n.URL(), "lab1", link, nil)
	local := dialClient(t, a.WS, "serial", relay.FormatJSON, nil)
	local.read(50)
	if st := busState(t, a); st.State != "down" || !strings.Contains(st.Reason, "unreachable") {
		t.Fatalf("bus state %+v, want down and unreachable", st)
	}
	if !metric(t, a, "wsbridge_bus_connected 0") {
		t.Fatal("/metrics does not say wsbridge_bus_connected 0")
	}
	first := &client{t: t, name: "resumed", epoch: local.epoch, next: 0}
	n.Start()
	b := startServe(t, n.URL(), "front", "", nil)
	waitChannel(t, b.URL, "serial")
	cl := dialClient(t, b.WS, "serial", relay.FormatJSON, first)
	cl.read(150) // from seq 0: what A's ring held before the bus came, then live
	if busLoss(cl) {
		t.Fatalf("gaps %+v", cl.gaps)
	}
	// Publishing may be between sessions (an ack that took longer than
	// ack_timeout on a loaded machine is resent, not lost): wait for it.
	var st bus.NodeHealth
	if !testsupport.Within(20*time.Second, 50*time.Millisecond, func() bool {
		st = busState(t, a)
		return st.State == "up" && st.Publishing["serial"] == "ok"
	}) {
		t.Fatalf("bus state %+v, want up and publishing", st)
	}
}

// The bus lost mid-stream and back: local clients never notice; remote
// clients hear the feed is down, then get every frame (published from
// A's ring after recovery), none lost.
func TestBusDownAndBack(t *testing.T) {
	long(t)
	n := natstest.RunServer(t)
	_, a, b := siteAndFront(t, n.URL(), nil)
	local := dialClient(t, a.WS, "serial", relay.FormatBinary, nil)
	remote := dialClient(t, b.WS, "serial", relay.FormatJSON, nil)
	remote.read(50)
	n.Stop()
	testsupport.WaitFor(t, 10*time.Second, "A to see the bus down", func() bool { return busState(t, a).State == "down" })
	local.read(100) // a second of frames while the bus is down
	n.Start()
	remote.read(300)
	if busLoss(remote) || busLoss(local) {
		t.Fatalf("gaps: remote %+v local %+v", remote.gaps, local.gaps)
	}
	var sawDown bool
	for _, st := range remote.stats {
		sawDown = sawDown || st.State == wsproto.StateDown && strings.Contains(st.Reason, "bus")
	}
	if !sawDown {
		t.Fatalf("remote client's statuses %+v: want a down naming the bus while it was lost", remote.stats)
	}
}

// The device restarts its count on A: clients on B see the restart once,
// with the new epoch and its first seq, then the new count exactly.
func TestDeviceRestartAcrossNodes(t *testing.T) {
	long(t)
	n := natstest.RunServer(t)
	dev, _, b := siteAndFront(t, n.URL(), nil)
	cls := []*client{dialClient(t, b.WS, "serial", relay.FormatJSON, nil), dialClient(t, b.WS, "serial", relay.FormatBinary, nil)}
	for _, cl := range cls {
		cl.read(50)
	}
	old := cls[0].epoch
	dev.stop()
	startDevice(t, dev.link) // the same board, counting from 0 again
	for _, cl := range cls {
		for cl.epoch == old {
			cl.read(1)
		}
		cl.read(100)
		var restarts []wsproto.Status
		for _, st := range cl.stats {
			if st.State == wsproto.StateRestart {
				restarts = append(restarts, st)
			}
		}
		if len(restarts) != 1 || restarts[0].Seq != 0 || restarts[0].Epoch == old || cl.next < 101 || busLoss(cl) {
			t.Fatalf("%s: restarts %+v (want one, to a new epoch at seq 0), gaps %+v, next %d", cl.name, restarts, cl.gaps, cl.next)
		}
	}
}

// A site behind NAT: a leaf node at the site (no JetStream of its own),
// the hub elsewhere; the site's serve publishes through the leaf, a serve
// at the hub serves its clients.
func TestLeafSite(t *testing.T) {
	long(t)
	hub, leaf := natstest.RunHubLeaf(t, natstest.WithOptions(func(o *server.Options) { o.JetStreamDomain = "hub" }))
	link := filepath.Join(t.TempDir(), "ttySIM")
	startDevice(t, link)
	startServe(t, leaf.URL(), "site1", link, func(o *serve.Options) { o.Bus.Domain = "hub" })
	b := startServe(t, hub.URL(), "hq", "", nil)
	waitChannel(t, b.URL, "serial")
	cl := dialClient(t, b.WS, "serial", relay.FormatCSV, nil)
	cl.read(200)
	if busLoss(cl) {
		t.Fatalf("gaps %+v", cl.gaps)
	}
}

// A client resumes on another node from before that node's ring: what the
// ring lacks comes from the bus (here the bus keeps 30 s, B's ring 1 s),
// then the ring, nothing lost. When the bus no longer has it either, the
// client gets the exact history gap.
func TestResumeAcrossNodesFromTheBus(t *testing.T) {
	long(t)
	n := natstest.RunServer(t)
	_, a, b := siteAndFront(t, n.URL(), func(o *serve.Options) { o.Relay.History = time.Second }) // A's ring and stream: 30 s
	onA := dialClient(t, a.WS, "serial", relay.FormatJSON, nil)
	onA.read(300) // 3 s: B's ring no longer holds the first of them
	from := &client{t: t, epoch: onA.epoch, next: 10}
	for _, f := range []string{relay.FormatBinary, relay.FormatJSON, relay.FormatCSV} {
		cl := dialClient(t, b.WS, "serial", f, from)
		cl.read(400)
		if busLoss(cl) {
			t.Fatalf("%s: gaps %+v", f, cl.gaps)
		}
	}

	// Trimmed from the bus too: the stream keeps its newest 100 events (1 s).
	nc, err := nats.Connect(n.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	ctx := context.Background()
	st, err := js.Stream(ctx, "wsbridge_serial")
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Purge(ctx, jetstream.WithPurgeKeep(100)); err != nil {
		t.Fatal(err)
	}
	cl := dialClient(t, b.WS, "serial", relay.FormatJSON, from)
	cl.read(100)
	// The client checked that each gap ends right before the next frame.
	// A client slower than the device keeps falling behind B's 1 s ring,
	// and what it missed there may be trimmed from the stream as well:
	// more history gaps, each exact.
	if len(cl.gaps) < 1 || cl.gaps[0].From != 10 {
		t.Fatalf("gaps %+v, want a history gap from 10", cl.gaps)
	}
	for _, g := range cl.gaps {
		if g.Reason != wsproto.GapHistory && g.Reason != wsproto.GapDevice {
			t.Fatalf("gap %+v", g)
		}
	}
}

// A board that publishes MQTT to the bus's NATS server is a channel of
// the serve configured with it (bus.mqtt), published on the bus like any
// other: a client of another node gets its frames exactly, the device's
// own gaps named, and its commands reach the board.
func TestMQTTBoardThroughTheBus(t *testing.T) {
	n := natstest.RunServer(t, natstest.WithMQTT())
	startServe(t, n.URL(), "garden", "", func(o *serve.Options) {
		o.Bus.MQTT = []bus.MQTTDevice{{Channel: "soil", Topic: "garden/soil", Input: "v1"}}
		o.Relay.AllowCommands = true // the origin decides whether its board takes commands
	})
	b := startServe(t, n.URL(), "hq", "", func(o *serve.Options) { o.Relay.AllowCommands = true })
	testsupport.WaitFor(t, 20*time.Second, "channel soil on hq", func() bool {
		var l relay.List
		testsupport.GetJSON(t, b.URL+"/api/channels", &l)
		return len(l.Channels) == 1 && l.Channels[0].Name == "soil"
	})
	cl := dialClient(t, b.WS, "soil", relay.FormatJSON, nil)

	board := natstest.DialMQTT(t, n.MQTTAddr(), "esp32-soil")
	board.Subscribe("garden/soil/cmd")
	for seq := uint32(0); seq < 200; seq++ {
		if seq >= 100 && seq < 103 {
			continue // lost on the board's side
		}
		board.Publish("garden/soil", counterPacket(t, seq), seq%2 == 0)
	}
	cl.next = 0
	cl.read(197)
	if len(cl.gaps) != 1 || cl.gaps[0].From != 100 || cl.gaps[0].To != 102 || cl.gaps[0].Reason != wsproto.GapDevice {
		t.Fatalf("gaps %+v, want the device gap 100..102", cl.gaps)
	}
	go board.ReadLoop()
	if err := cl.c.Write(context.Background(), websocket.MessageText, []byte(`{"type":"command","line":"rate 8000"}`)); err == nil {
		select {
		case cmd := <-board.Got:
			if string(cmd) != "rate 8000\n" {
				t.Fatalf("the board got %q", cmd)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("the command did not reach the board")
		}
	}
}

// counterPacket is the simulator's counter frame seq as a v1 packet.
func counterPacket(t *testing.T, seq uint32) []byte {
	f := frame.Frame{Seq: seq, Rate: simRate, Channels: 1, SampleType: frame.I16, Count: frameSamples, TimeUS: uint64(seq) * 10000}
	f.Data = make([]byte, f.PayloadSize())
	for j := range frameSamples {
		f.PutInt(j, 0, int64(seq)*frameSamples+int64(j))
	}
	raw, err := frame.AppendFrame(nil, &f)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// The origin serve stopping (SIGTERM) is the last thing its channel
// publishes: remote clients hear the device is down and why, instead of a
// silent stall.
func TestOriginStopsRemoteClientsHearIt(t *testing.T) {
	long(t)
	n := natstest.RunServer(t)
	_, a, b := siteAndFront(t, n.URL(), nil)
	cl := dialClient(t, b.WS, "serial", relay.FormatJSON, nil)
	cl.read(20)
	if err := a.Stop(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		if err := cl.readOne(10 * time.Second); err != nil {
			t.Fatal(err)
		}
		if k := len(cl.stats); k > 0 && cl.stats[k-1].State == wsproto.StateDown {
			if !strings.Contains(cl.stats[k-1].Reason, "the serve publishing this channel stopped") {
				t.Fatalf("down %+v", cl.stats[k-1])
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no down status; statuses %+v", cl.stats)
		}
	}
}

// A site cut off (its leaf node's link to the hub gone): the hub's
// clients hear that nothing comes from the site's serve, then, once the
// link is back, everything the site's ring kept, nothing lost.
func TestSiteCutOff(t *testing.T) {
	long(t)
	hub, leaf := natstest.RunHubLeaf(t, natstest.WithOptions(func(o *server.Options) { o.JetStreamDomain = "hub" }))
	link := filepath.Join(t.TempDir(), "ttySIM")
	startDevice(t, link)
	// The site says it is alive every 300 ms (the mirror waits for 3 of
	// the site's intervals, whatever its own setting).
	startServe(t, leaf.URL(), "site1", link, func(o *serve.Options) { o.Bus.Domain, o.Bus.Alive = "hub", 300*time.Millisecond })
	b := startServe(t, hub.URL(), "hq", "", nil)
	waitChannel(t, b.URL, "serial")
	cl := dialClient(t, b.WS, "serial", relay.FormatJSON, nil)
	cl.read(400) // 1 s: the hub's serve has heard the site's interval
	leaf.Stop()
	for {
		if err := cl.readOne(20 * time.Second); err != nil {
			t.Fatalf("waiting for the down status: %v (statuses %+v)", err, cl.stats)
		}
		if k := len(cl.stats); k > 0 && cl.stats[k-1].State == wsproto.StateDown {
			if !strings.Contains(cl.stats[k-1].Reason, "no sign of the serve of site site1 for 900ms") {
				t.Fatalf("down %+v", cl.stats[k-1])
			}
			break
		}
	}
	leaf.Start()
	for cl.stats[len(cl.stats)-1].State != wsproto.StateUp { // the site's frames kept while cut off, then live
		if err := cl.readOne(20 * time.Second); err != nil {
			t.Fatalf("waiting for the up status: %v (statuses %+v)", err, cl.stats)
		}
	}
	cl.read(400)
	if busLoss(cl) {
		t.Fatalf("gaps %+v", cl.gaps)
	}
}

// The embedded default is unchanged: serve without --bus has no bus at
// all (nothing under "bus" in /healthz, no bus metrics, no remote
// channels, not a word about a bus in its output).
func TestServeWithoutBus(t *testing.T) {
	o := serve.DefaultOptions()
	o.Relay.Listen, o.Sim = "127.0.0.1:0", true
	o.Log = quietLog(t)
	s := testsupport.StartServe(t, func(ctx context.Context, out io.Writer) error {
		o.Out = out
		return serve.Run(ctx, o)
	})
	waitChannel(t, s.URL, "sim")
	var h map[string]json.RawMessage
	testsupport.GetJSON(t, s.URL+"/healthz", &h)
	if _, ok := h["bus"]; ok {
		t.Fatalf("/healthz has a bus: %s", h["bus"])
	}
	if m := testsupport.MetricsText(t, s.URL); !strings.Contains(m, "wsbridge_") || strings.Contains(m, "bus_") {
		t.Fatalf("/metrics: want wsbridge's metrics and no bus_ ones:\n%s", m)
	}
	var ch json.RawMessage
	testsupport.GetJSON(t, s.URL+"/api/channels", &ch)
	if strings.Contains(string(ch), `"remote"`) || strings.Contains(string(ch), "bus_") {
		t.Fatalf("/api/channels mentions a bus: %s", ch)
	}
	if out := s.Out.String(); strings.Contains(strings.ToLower(out), "bus") || strings.Contains(out, "nats") {
		t.Fatalf("serve's output mentions a bus: %s", out)
	}
}
