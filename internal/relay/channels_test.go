package relay

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/wsbridge/wsbridge/internal/testsupport"
)

// twoChannels starts a server with channels mic and accel, each with its
// own commander.
func twoChannels(t *testing.T) (mic, accel *Channel, micCmd, accelCmd *fakeCommander, base string) {
	t.Helper()
	micCmd, accelCmd = &fakeCommander{}, &fakeCommander{}
	mic, base = testServer(t, Options{AllowCommands: true}, ChannelOptions{Name: "mic", Commander: micCmd})
	accel, err := mic.srv.AddChannel(ChannelOptions{Name: "accel", Commander: accelCmd,
		Counters: func() []Counter { return []Counter{{Name: "serial_bytes_total", Help: "Bytes read.", Value: 42}} }})
	if err != nil {
		t.Fatal(err)
	}
	return mic, accel, micCmd, accelCmd, base
}

// Each channel is its own stream on /ws/NAME: its clients get exactly its
// device's frames, its hello names it, its commands reach its device only.
// /ws without a name says what to do when there are several.
func TestChannelsRouting(t *testing.T) {
	mic, accel, micCmd, accelCmd, base := twoChannels(t)
	m := testsupport.Dial(t, WSURL(base)+"/mic?format=json", nil)
	a := testsupport.Dial(t, WSURL(base)+"/accel", nil)
	if h := testsupport.ExpectHello(t, m); h.Channel != "mic" {
		t.Fatalf("mic hello %+v", h)
	}
	ha := testsupport.ExpectHello(t, a)
	if ha.Channel != "accel" {
		t.Fatalf("accel hello %+v", ha)
	}
	publish(t, mic, 0, 5)
	publish(t, accel, 100, 103)
	publish(t, mic, 5, 8)
	expectFrames(t, m, 0, 8)
	expectFrames(t, a, 100, 103)
	if mic.Epoch() == accel.Epoch() {
		t.Errorf("two channels share epoch %s", mic.Epoch())
	}

	send(t, a, websocket.MessageText, `{"type":"command","line":"rate 100"}`)
	testsupport.WaitFor(t, 2*time.Second, "the command", func() bool { return len(accelCmd.got()) == 1 })
	if got := micCmd.got(); len(got) != 0 {
		t.Errorf("mic's device got %v, a command sent on accel", got)
	}

	dialErr(t, WSURL(base), nil, 409, "this server carries 2 channels (mic, accel): ask for one with /ws/NAME")
	dialErr(t, WSURL(base)+"/nope", nil, 404, `no channel "nope" on this server; its channels: mic, accel`)
	if code, body := get(t, base+"/api/info", nil); code != 409 || !strings.Contains(body, "/api/channels/NAME") {
		t.Fatalf("/api/info with two channels: %d %s", code, body)
	}
}

// /api/channels lists every channel with its state and counters,
// /api/channels/NAME is one channel's info, /healthz names the channels
// that are down, and every per-channel metric carries the channel label.
func TestChannelsEndpoints(t *testing.T) {
	mic, accel, _, _, base := twoChannels(t)
	mic.Up("open /dev/ttyUSB0")
	publish(t, mic, 0, 5)
	accel.Down("/dev/ttyUSB9 not found")
	publish(t, accel, 0, 3)
	accel.Down("unplugged")

	var l List
	getJSON(t, base+"/api/channels", &l)
	if len(l.Channels) != 2 || l.Channels[0].Name != "mic" || l.Channels[1].Name != "accel" ||
		l.Channels[0].DeviceState != "up" || l.Channels[1].DeviceState != "down" || l.Channels[1].DeviceReason != "unplugged" ||
		l.Channels[0].Path != "/ws/mic" || l.Channels[0].Counters["frames_received_total"] != 5 ||
		l.Channels[1].Counters["frames_received_total"] != 3 || l.Channels[1].Counters["serial_bytes_total"] != 42 ||
		l.Channels[0].Rate != tRate || l.Channels[0].History.Frames != 5 || l.Channels[0].Epoch != mic.Epoch() {
		t.Fatalf("/api/channels: %+v", l)
	}
	var in Info
	getJSON(t, base+"/api/channels/accel", &in)
	if in.Channel != "accel" || in.Seq != 3 || in.Counters["frames_received_total"] != 3 || in.Counters["uptime_seconds"] == 0 {
		t.Fatalf("/api/channels/accel: %+v", in)
	}
	if code, body := get(t, base+"/api/channels/nope", nil); code != 404 || !strings.Contains(body, "mic, accel") {
		t.Fatalf("/api/channels/nope: %d %s", code, body)
	}

	var h Health
	getJSON(t, base+"/healthz", &h)
	if h.Status != "ok" || h.DeviceState != "down" || len(h.Down) != 1 || h.Down[0] != "accel" ||
		h.Channels["mic"].DeviceState != "up" || h.Channels["accel"].DeviceReason != "unplugged" || h.Seq != nil {
		t.Fatalf("/healthz: %+v", h)
	}

	_, m := get(t, base+"/metrics", nil)
	for _, want := range []string{
		"# TYPE wsbridge_frames_received_total counter\nwsbridge_frames_received_total{channel=\"mic\"} 5\nwsbridge_frames_received_total{channel=\"accel\"} 3\n",
		"wsbridge_device_up{channel=\"mic\"} 1\nwsbridge_device_up{channel=\"accel\"} 0\n",
		"# TYPE wsbridge_serial_bytes_total counter\nwsbridge_serial_bytes_total{channel=\"accel\"} 42\n",
		"\nwsbridge_channels 2\n",
	} {
		if !strings.Contains(m, want) {
			t.Fatalf("/metrics missing %q:\n%s", want, m)
		}
	}
	if strings.Count(m, "# TYPE wsbridge_frames_received_total ") != 1 {
		t.Fatalf("a metric family declared twice:\n%s", m)
	}
}

func getJSON(t *testing.T, url string, v any) {
	t.Helper()
	code, body := get(t, url, nil)
	if code != 200 {
		t.Fatalf("%s: %d %s", url, code, body)
	}
	if err := json.Unmarshal([]byte(body), v); err != nil {
		t.Fatalf("%s: %v\n%s", url, err, body)
	}
}

// A server with one channel keeps /ws and /api/info working as before,
// and /healthz carries that channel's epoch and seq at the top.
func TestOneChannelKeepsPlainPaths(t *testing.T) {
	s, base := testServer(t, Options{}, ChannelOptions{Name: "sim"})
	publish(t, s, 0, 2)
	c := testsupport.Dial(t, WSURL(base), nil)
	if h := testsupport.ExpectHello(t, c); h.Channel != "sim" || h.Seq != 2 {
		t.Fatalf("hello %+v", h)
	}
	var in Info
	getJSON(t, base+"/api/info", &in)
	var h Health
	getJSON(t, base+"/healthz", &h)
	if in.Channel != "sim" || in.Path != "/ws/sim" || h.Seq == nil || *h.Seq != 2 || h.Epoch != s.Epoch() || h.Channels["sim"].Seq != 2 {
		t.Fatalf("/api/info %+v, /healthz %+v", in, h)
	}
}
