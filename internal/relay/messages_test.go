package relay

import (
	"context"
	"errors"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/wsbridge/wsbridge/internal/frame"
	"github.com/wsbridge/wsbridge/internal/testsupport"
	"github.com/wsbridge/wsbridge/internal/wsproto"
)

// fakeCommander records command lines (the real device is exercised by
// the end-to-end test in internal/serve).
type fakeCommander struct {
	mu    sync.Mutex
	lines []string
	err   error
}

func (f *fakeCommander) Command(line string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.lines = append(f.lines, line)
	return f.err
}

func (f *fakeCommander) got() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.lines...)
}

func send(t *testing.T, c *websocket.Conn, typ websocket.MessageType, b string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.Write(ctx, typ, []byte(b)); err != nil {
		t.Fatal(err)
	}
}

func expectError(t *testing.T, c *websocket.Conn, code, text string) {
	t.Helper()
	e := expectMsg(t, c, wsproto.TypeError).err
	if e.Code != code || !strings.Contains(e.Message, text) {
		t.Fatalf("error = %+v, want %s containing %q", e, code, text)
	}
}

// Bad input gets its documented answer; an oversize message closes that
// client with 1009; the other client keeps getting every frame.
func TestClientMessagesAbuse(t *testing.T) {
	s, base := testServer(t, Options{})
	other := testsupport.Dial(t, wsURL(base, ""), nil)
	testsupport.ExpectHello(t, other)
	c := testsupport.Dial(t, wsURL(base, ""), nil)
	testsupport.ExpectHello(t, c)
	send(t, c, websocket.MessageText, `{"type":"command"`)
	expectError(t, c, wsproto.ErrBadJSON, "not a JSON object")
	send(t, c, websocket.MessageText, `{"type":"subscribe"}`)
	expectError(t, c, wsproto.ErrUnknownType, `unknown message type "subscribe"`)
	send(t, c, websocket.MessageBinary, "\x01\x02")
	expectError(t, c, wsproto.ErrBinary, "binary messages are not accepted from clients")
	send(t, c, websocket.MessageText, `{"type":"command","line":"rate 8000"}`)
	expectError(t, c, wsproto.ErrCommandsDisabled, "start serve with --allow-commands")
	publish(t, s, 0, 3)
	expectFrames(t, c, 0, 3)

	send(t, c, websocket.MessageText, `{"type":"command","line":"`+strings.Repeat("x", wsproto.MaxClientMessage)+`"}`)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var err error
	for err == nil {
		_, _, err = c.Read(ctx)
	}
	if websocket.CloseStatus(err) != websocket.StatusMessageTooBig {
		t.Fatalf("oversize: %v, want close 1009", err)
	}
	publish(t, s, 3, 10)
	expectFrames(t, other, 0, 10)
	testsupport.WaitFor(t, 2*time.Second, "the oversize client to leave", func() bool { return clients(s) == 1 })
	cs := s.Info().Counters
	if cs["client_oversize_total"] != 1 || cs["client_errors_total"] != 4 || cs["client_messages_total"] != 4 {
		t.Fatalf("counters %v", cs)
	}
}

// With --allow-commands, commands reach the Commander and the device's
// reply reaches the clients; failures are explained.
func TestCommandsForwarded(t *testing.T) {
	cmd := &fakeCommander{}
	s, base := testServer(t, Options{AllowCommands: true}, ChannelOptions{Name: "default", Commander: cmd})
	c := testsupport.Dial(t, wsURL(base, "format=json"), nil)
	if h := testsupport.ExpectHello(t, c); !h.Commands {
		t.Fatalf("hello.commands = false")
	}
	send(t, c, websocket.MessageText, `{"type":"command","line":"rate 8000"}`)
	testsupport.WaitFor(t, 2*time.Second, "the command", func() bool { return len(cmd.got()) == 1 })
	if got := cmd.got(); got[0] != "rate 8000" {
		t.Fatalf("commander got %q", got)
	}
	s.Packet(&frame.Packet{Type: frame.TypeReply, Status: frame.ReplyOK, Text: []byte("rate 8000")})
	if r := expectMsg(t, c, wsproto.TypeReply).reply; !r.OK || r.Text != "rate 8000" {
		t.Fatalf("reply = %+v", r)
	}
	send(t, c, websocket.MessageText, `{"type":"command","line":"bad\u0001line"}`)
	expectError(t, c, wsproto.ErrBadCommand, "without control characters")
	cmd.mu.Lock()
	cmd.err = errors.New("device is gone")
	cmd.mu.Unlock()
	send(t, c, websocket.MessageText, `{"type":"command","line":"info"}`)
	expectError(t, c, wsproto.ErrDeviceDown, "failed to send command: device is gone")
	if got := s.Info().Counters["commands_total"]; got != 1 {
		t.Fatalf("commands_total = %v", got)
	}
}

// Shutdown sends every client what the history held for it, then a
// stopping status naming the seq the count would send next, then closes
// with 1001 (going away).
func TestShutdownGoingAway(t *testing.T) {
	s, err := New(Options{Listen: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	ch, err := s.AddChannel(ChannelOptions{Name: "default"})
	if err != nil {
		t.Fatal(err)
	}
	base, cancel, done := serve(t, s)
	a, b := testsupport.Dial(t, wsURL(base, ""), nil), testsupport.Dial(t, wsURL(base, "format=csv"), nil)
	e := testsupport.ExpectHello(t, a).Epoch
	testsupport.ExpectHello(t, b)
	publish(t, ch, 0, 40)
	cancel()
	for _, c := range []*websocket.Conn{a, b} {
		expectFrames(t, c, 0, 40)
		if st := expectMsg(t, c, wsproto.TypeStatus).status; st.State != wsproto.StateStopping || st.Seq != 40 || st.Epoch != e {
			t.Fatalf("last status = %+v, want stopping at 40 in %s", st, e)
		}
		_, _, err := c.Read(context.Background())
		if websocket.CloseStatus(err) != websocket.StatusGoingAway {
			t.Fatalf("client got %v, want close 1001", err)
		}
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if _, _, err := websocket.Dial(context.Background(), wsURL(base, ""), nil); err == nil {
		t.Fatal("dial after shutdown succeeded")
	}
}

// Device state changes reach clients as status messages and show in
// /healthz, /api/info and /metrics.
func TestDeviceStatusAndEndpoints(t *testing.T) {
	s, base := testServer(t, Options{})
	c := testsupport.Dial(t, wsURL(base, ""), nil)
	if h := testsupport.ExpectHello(t, c); h.DeviceState != wsproto.StateDown || h.Device != nil {
		t.Fatalf("hello before any device: %+v", h)
	}
	s.Up("open")
	if st := expectMsg(t, c, wsproto.TypeStatus).status; st.State != wsproto.StateUp {
		t.Fatalf("status %+v", st)
	}
	publish(t, s, 0, 5)
	expectFrames(t, c, 0, 5)
	s.Down("read /dev/ttyUSB0: input/output error")
	if st := expectMsg(t, c, wsproto.TypeStatus).status; st.State != wsproto.StateDown || st.Seq != 5 || !strings.Contains(st.Reason, "input/output") {
		t.Fatalf("status %+v", st)
	}
	if code, body := get(t, base+"/healthz", nil); code != 200 || !strings.Contains(body, `"device_state": "down"`) {
		t.Fatalf("/healthz %d %s", code, body)
	}
	code, body := get(t, base+"/api/info", nil)
	for _, want := range []string{`"device_state": "down"`, `"rate": 16000`, `"channels": 2`, `"sample_type": "i16"`,
		`"format": "binary"`, `"address": "127.0.0.1:`, `"frames_received_total": 5`, `"uptime_s"`} {
		if code != 200 || !strings.Contains(body, want) {
			t.Fatalf("/api/info %d missing %s:\n%s", code, want, body)
		}
	}
	_, m := get(t, base+"/metrics", nil)
	for _, want := range []string{"# TYPE wsbridge_frames_received_total counter\nwsbridge_frames_received_total{channel=\"default\"} 5\n",
		"# TYPE wsbridge_device_up gauge\nwsbridge_device_up{channel=\"default\"} 0\n", "wsbridge_clients{channel=\"default\"} 1\n",
		"wsbridge_client_dropped_frames_total{channel=\"default\"} 0\n", "\nwsbridge_uptime_seconds "} {
		if !strings.Contains(m, want) {
			t.Fatalf("/metrics missing %q:\n%s", want, m)
		}
	}
	if code, body := get(t, base+"/", nil); code != 200 || !strings.Contains(body, "wsbridge") {
		t.Fatalf("/ %d %s", code, body)
	}
}

// fakeListener only reports an address: commandPolicy looks at it.
type fakeListener struct {
	net.Listener
	ip net.IP
}

func (f fakeListener) Addr() net.Addr { return &net.TCPAddr{IP: f.ip, Port: 8080} }

// Commands beyond loopback need a token even with --allow-commands.
func TestCommandPolicy(t *testing.T) {
	for _, tc := range []struct {
		o        Options
		loopback bool
		code     string
	}{
		{Options{}, true, wsproto.ErrCommandsDisabled},
		{Options{AllowCommands: true}, true, ""},
		{Options{AllowCommands: true}, false, wsproto.ErrUnauthorized},
		{Options{AllowCommands: true, Token: "t"}, false, ""},
	} {
		s, err := New(tc.o)
		if err != nil {
			t.Fatal(err)
		}
		s.ln = fakeListener{ip: net.IPv4(192, 168, 1, 20)}
		if tc.loopback {
			s.ln = fakeListener{ip: net.IPv4(127, 0, 0, 1)}
		}
		got := ""
		if e := s.commandPolicy(); e != nil {
			got = e.Code
		}
		if got != tc.code {
			t.Errorf("%+v loopback %v: %q, want %q", tc.o, tc.loopback, got, tc.code)
		}
	}
}
