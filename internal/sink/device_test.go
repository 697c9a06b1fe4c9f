package sink

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/rs/zerolog"

	"github.com/wsbridge/wsbridge/internal/testsupport"
	"github.com/wsbridge/wsbridge/internal/wsclient"
)

// board is a stand-in for an ESP32 running its own WebSocket server, as
// the tutorials' sketches do (ESPAsyncWebServer's AsyncWebSocket on
// ws://esp32.local:81/): no hello; each connection gets what send writes.
// Text messages the sink sends (commands) arrive on got.
type board struct {
	url string
	got chan string
}

func newBoard(t *testing.T, send func(ctx context.Context, c *websocket.Conn)) *board {
	b := &board{got: make(chan string, 16)}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer c.CloseNow()
		ctx, cancel := context.WithCancel(r.Context())
		defer cancel()
		go func() {
			defer cancel()
			for {
				_, m, err := c.Read(ctx)
				if err != nil {
					return
				}
				b.got <- string(m)
			}
		}()
		send(ctx, c)
		<-ctx.Done()
	}))
	t.Cleanup(srv.Close)
	b.url = strings.Replace(srv.URL, "http", "ws", 1) + "/"
	return b
}

// every sends msg(i) for i = 0, 1, ... every d until the connection ends.
func every(d time.Duration, msg func(i int) (websocket.MessageType, []byte)) func(ctx context.Context, c *websocket.Conn) {
	return func(ctx context.Context, c *websocket.Conn) {
		t := time.NewTicker(d)
		defer t.Stop()
		for i := 0; ; i++ {
			typ, b := msg(i)
			if c.Write(ctx, typ, b) != nil {
				return
			}
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}
}

// text is message i of a counter board: format filled with i (and i+1
// when it has two verbs).
func text(format string) func(i int) (websocket.MessageType, []byte) {
	return func(i int) (websocket.MessageType, []byte) {
		return websocket.MessageText, []byte(counterLine(format, i))
	}
}

func counterLine(format string, i int) string {
	if strings.Count(format, "%d") == 2 {
		return fmt.Sprintf(format, i, i+1)
	}
	return fmt.Sprintf(format, i)
}

// TestSinkStraightToABoard: `sink --url ws://esp32.local:81/` to a board
// that broadcasts JSON or text every 10 ms (issue 16.2: "server did not
// start with a hello message", retried forever). The values reach the
// port as csv lines, exactly and in order.
func TestSinkStraightToABoard(t *testing.T) {
	cases := []struct {
		name, input, msg, want string
		header                 string // with --header, the line first
	}{
		{"json value", InputAuto, `{"value": %d}`, "%d\n", ""},
		{"json two fields header", InputJSON, `{"a": %d, "b": %d}`, "%d,%d\n", "a,b\n"},
		{"text line", InputAuto, "%d\n", "%d\n", ""},
		{"plotter text", InputText, "mic:%d,vbat:%d", "%d,%d\n", "mic,vbat\n"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b := newBoard(t, every(10*time.Millisecond, text(tc.msg)))
			r := startSink(t, b.url, func(o *Options) { o.Input, o.Header = tc.input, tc.header != "" })
			rd := openLikeR(t, r.info.Name)
			var want strings.Builder
			want.WriteString(tc.header)
			for i := 0; i < 20; i++ {
				want.WriteString(counterLine(tc.want, i))
			}
			got := readUntil(t, rd, 5*time.Second, func(b []byte) bool { return len(b) >= want.Len() })
			if string(got[:want.Len()]) != want.String() {
				t.Fatalf("port got %q, want %q", got[:want.Len()], want.String())
			}
			sum := r.stop(t)
			if sum.Gaps != 0 || sum.BadPackets != 0 || sum.Frames < 20 {
				t.Errorf("summary %+v", sum)
			}
			if len(r.log.LogEntries("connected to a board's own WebSocket server")) != 1 {
				t.Errorf("no log line saying what is not known:\n%s", r.log.String())
			}
		})
	}
}

// TestBoardSendingV1FramesCountsLosses: a board that sends v1 packets
// (without COBS) carries sequence numbers: a frame it skipped is a gap.
func TestBoardSendingV1FramesCountsLosses(t *testing.T) {
	b := newBoard(t, func(ctx context.Context, c *websocket.Conn) {
		for _, s := range []uint32{0, 1, 2, 5, 6} {
			c.Write(ctx, websocket.MessageBinary, counterFrame(s))
		}
	})
	r := startSink(t, b.url, nil)
	rd := openLikeR(t, r.info.Name)
	want := wantCSV(0, 2) + "# gap 3..4 frames=2 reason=network\n" + wantCSV(5, 6)
	if got := readUntil(t, rd, 5*time.Second, func(b []byte) bool { return len(b) >= len(want) }); string(got) != want {
		t.Fatalf("port: %s", firstDiff(got, []byte(want)))
	}
	if sum := r.stop(t); sum.Gaps != 1 || sum.LostFrames != 2 {
		t.Errorf("summary %+v", sum)
	}
}

// TestCommandsToABoardAreTextLines: what R writes into the port reaches
// the board as the text line itself (what the sketches' handlers parse).
func TestCommandsToABoardAreTextLines(t *testing.T) {
	b := newBoard(t, every(50*time.Millisecond, text(`{"value": %d}`)))
	r := startSink(t, b.url, nil)
	rd := openLikeR(t, r.info.Name)
	readUntil(t, rd, 5*time.Second, lineCount(1))
	w, err := openWrite(r.info.Link)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	w.WriteString("led on\n")
	select {
	case m := <-b.got:
		if m != "led on" {
			t.Errorf("board got %q, want %q", m, "led on")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the board got no command")
	}
}

// TestServerThatIsNeitherServeNorABoard: a WebSocket server whose messages
// are neither a hello nor anything a device sends ends the sink, once and
// clearly, as any server that will never work.
func TestServerThatIsNeitherServeNorABoard(t *testing.T) {
	b := newBoard(t, every(time.Millisecond, func(i int) (websocket.MessageType, []byte) {
		return websocket.MessageBinary, []byte{0xde, 0xad, 0xbe, 0xef}
	}))
	o := DefaultOptions()
	o.URL, o.Virtual = b.url, filepath.Join(t.TempDir(), "tty")
	var log testsupport.SyncBuffer
	o.Log = zerolog.New(&log)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := Run(ctx, o)
	if !errors.Is(err, ErrServer) || !errors.Is(err, wsclient.ErrNotWsbridge) ||
		!strings.Contains(err.Error(), "is neither a wsbridge serve (no hello) nor a board sending values") {
		t.Fatalf("Run = %v", err)
	}
	if n := len(log.LogEntries("ignoring a message from the board")); n > logBurst {
		t.Errorf("%d warnings for refused messages: not rate-limited", n)
	}
}

// TestBoardReconnectSaysWhatIsLost: after a drop, the sink says that what
// the board sent meanwhile is lost and not counted.
func TestBoardReconnectSaysWhatIsLost(t *testing.T) {
	var n atomic.Int32 // each connection is served on its own goroutine
	b := newBoard(t, func(ctx context.Context, c *websocket.Conn) {
		first := n.Add(1) == 1
		c.Write(ctx, websocket.MessageText, []byte(`{"value": 1}`))
		if first {
			c.CloseNow()
		}
	})
	r := startSink(t, b.url, nil)
	r.log.WaitLogEntries(t, "what it sent while disconnected is lost and, without sequence numbers, not counted", 1, 5*time.Second)
}
