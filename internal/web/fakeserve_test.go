package web

import (
	"context"
	"encoding/json"
	"math"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/wsbridge/wsbridge/internal/frame"
	"github.com/wsbridge/wsbridge/internal/wsproto"
)

// fakeServe is a stand-in for serve --sim used until internal/serve lands:
// web.Handler at /, /ws with hello and live frames built with package frame.
type fakeServe struct {
	url    string
	srv    *http.Server
	cancel context.CancelFunc
	mu     sync.Mutex
	subs   map[chan []byte]bool
}

type simOpts struct {
	Addr     string
	Signal   string // sine or counter
	Rate     int
	Channels int
	Token    string
}

func startFake(t *testing.T, o simOpts) *fakeServe {
	t.Helper()
	if o.Addr == "" {
		o.Addr = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", o.Addr)
	if err != nil {
		t.Fatalf("listen %s: %v", o.Addr, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	f := &fakeServe{url: "http://" + ln.Addr().String(), cancel: cancel, subs: map[chan []byte]bool{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /ws", func(w http.ResponseWriter, r *http.Request) { f.ws(w, r, o) })
	mux.HandleFunc("GET /api/info", func(w http.ResponseWriter, r *http.Request) {
		if o.Token != "" && r.URL.Query().Get("token") != o.Token && r.Header.Get("Authorization") != "Bearer "+o.Token {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		w.Write([]byte("{}"))
	})
	mux.Handle("/", Handler())
	f.srv = &http.Server{Handler: mux}
	go f.srv.Serve(ln)
	go f.generate(ctx, o)
	t.Cleanup(f.stop)
	return f
}

func (f *fakeServe) stop() {
	f.cancel()
	f.srv.Close()
}

func device(o simOpts) *wsproto.Device {
	ch := []frame.Channel{{Name: "left", Unit: "counts"}, {Name: "right", Unit: "counts"}}
	return &wsproto.Device{Name: "wsbridge-sim", Firmware: "test", Rate: uint32(o.Rate), Channels: o.Channels,
		SampleType: "i16", FrameSamples: o.Rate / 100, ChannelInfo: ch[:o.Channels]}
}

func (f *fakeServe) ws(w http.ResponseWriter, r *http.Request, o simOpts) {
	if o.Token != "" && r.URL.Query().Get("token") != o.Token {
		http.Error(w, "unauthorized", http.StatusUnauthorized)
		return
	}
	c, err := websocket.Accept(w, r, nil)
	if err != nil {
		return
	}
	defer c.CloseNow()
	ch := make(chan []byte, 256)
	f.mu.Lock()
	f.subs[ch] = true
	f.mu.Unlock()
	defer func() {
		f.mu.Lock()
		delete(f.subs, ch)
		f.mu.Unlock()
	}()
	hello, _ := json.Marshal(wsproto.Hello{Type: "hello", Protocol: 1, Server: "fake", Format: "binary", DeviceState: "up",
		Device: device(o), Rate: uint32(o.Rate), Channels: o.Channels, SampleType: "i16"})
	ctx := c.CloseRead(r.Context())
	if c.Write(ctx, websocket.MessageText, hello) != nil {
		return
	}
	for {
		select {
		case b := <-ch:
			if c.Write(ctx, websocket.MessageBinary, b) != nil {
				return
			}
		case <-ctx.Done():
			return
		}
	}
}

func (f *fakeServe) generate(ctx context.Context, o simOpts) {
	n := o.Rate / 100
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	var seq uint32
	var i int
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		fr := frame.Frame{Seq: seq, TimeUS: uint64(i) * 1e6 / uint64(o.Rate), Rate: uint32(o.Rate), Channels: uint8(o.Channels),
			SampleType: frame.I16, Count: uint16(n), Data: make([]byte, n*o.Channels*2)}
		for k := 0; k < n; k++ {
			for c := 0; c < o.Channels; c++ {
				v := float64(i + k + c)
				if o.Signal == "sine" {
					v = 10000 * math.Sin(2*math.Pi*440*float64(i+k)/float64(o.Rate)+float64(c))
				}
				fr.PutInt(k, c, int64(v))
			}
		}
		b, _ := frame.AppendFrame(nil, &fr)
		seq++
		i += n
		f.mu.Lock()
		for s := range f.subs {
			select {
			case s <- b:
			default:
			}
		}
		f.mu.Unlock()
	}
}
