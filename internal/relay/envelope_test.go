package relay

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/wsbridge/wsbridge/internal/adcsim"
	"github.com/wsbridge/wsbridge/internal/frame"
	"github.com/wsbridge/wsbridge/internal/testsupport"
	"github.com/wsbridge/wsbridge/internal/wsproto"
)

// envMsg is one message an envelope test client received: an envelope
// (binary or JSON, decoded alike), or anything read decodes.
type envMsg struct {
	msg
	env    frame.Envelope // header (Data nil for JSON)
	epoch  string         // JSON envelopes only
	lo, hi [][]float64    // per channel, per point; NaN for null
}

func readEnv(t testing.TB, c *websocket.Conn, d time.Duration) (envMsg, error) {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	typ, b, err := c.Read(ctx)
	if err != nil {
		return envMsg{}, err
	}
	switch {
	case typ == websocket.MessageBinary && len(b) > 1 && frame.Type(b[1]) == frame.TypeEnvelope:
		m := envMsg{msg: msg{typ: "envelope", raw: b}}
		if err := frame.ParseEnvelope(&m.env, b); err != nil {
			return m, err
		}
		m.seq = m.env.Seq
		m.lo, m.hi = make([][]float64, m.env.Channels), make([][]float64, m.env.Channels)
		for ch := range m.lo {
			for k := 0; k < int(m.env.Points); k++ {
				lo, hi := m.env.MinMax(k, ch)
				m.lo[ch], m.hi[ch] = append(m.lo[ch], lo), append(m.hi[ch], hi)
			}
		}
		return m, nil
	case typ == websocket.MessageBinary:
		m, err := decodeBinary(b)
		return envMsg{msg: m}, err
	case strings.HasPrefix(string(b), `{"type":"envelope"`):
		return decodeJSONEnvelope(b)
	}
	m, err := decodeText(b)
	return envMsg{msg: m}, err
}

func decodeJSONEnvelope(b []byte) (envMsg, error) {
	var j struct {
		Epoch      string       `json:"epoch"`
		Seq        uint32       `json:"seq"`
		LastSeq    uint32       `json:"last_seq"`
		Rate       uint32       `json:"rate"`
		Channels   uint8        `json:"channels"`
		SampleType string       `json:"sample_type"`
		TimeUS     uint64       `json:"t_dev_us"`
		N          uint32       `json:"n"`
		Phase      uint32       `json:"phase"`
		Samples    uint32       `json:"samples"`
		Min        [][]*float64 `json:"min"`
		Max        [][]*float64 `json:"max"`
	}
	m := envMsg{msg: msg{typ: "envelope", raw: b}}
	if err := json.Unmarshal(b, &j); err != nil {
		return m, err
	}
	st, err := frame.ParseSampleType(j.SampleType)
	if err != nil {
		return m, err
	}
	m.env = frame.Envelope{Seq: j.Seq, LastSeq: j.LastSeq, TimeUS: j.TimeUS, Rate: j.Rate, Samples: j.Samples,
		N: j.N, Phase: j.Phase, Channels: j.Channels, SampleType: st, Points: uint16(frame.EnvelopePoints(j.Phase, j.Samples, j.N))}
	m.seq, m.epoch = j.Seq, j.Epoch
	conv := func(in [][]*float64) [][]float64 {
		out := make([][]float64, len(in))
		for c, vs := range in {
			for _, v := range vs {
				if v == nil {
					out[c] = append(out[c], math.NaN())
				} else {
					out[c] = append(out[c], *v)
				}
			}
		}
		return out
	}
	m.lo, m.hi = conv(j.Min), conv(j.Max)
	if len(m.lo) != int(j.Channels) || len(m.hi) != int(j.Channels) || len(m.lo[0]) != int(m.env.Points) {
		return m, fmt.Errorf("JSON envelope with %d/%d channel arrays of %d points, want %d of %d: %s",
			len(m.lo), len(m.hi), len(m.lo[0]), j.Channels, m.env.Points, b)
	}
	return m, nil
}

// expectEnv reads one message and checks its type.
func expectEnv(t testing.TB, c *websocket.Conn, typ string) envMsg {
	t.Helper()
	m, err := readEnv(t, c, 5*time.Second)
	if err != nil {
		t.Fatalf("want %s, got error %v", typ, err)
	}
	if m.typ != typ {
		t.Fatalf("want %s, got %s %s", typ, m.typ, m.raw[:min(len(m.raw), 300)])
	}
	return m
}

// checkEnvValues checks every point of an envelope of frames of count
// instants against value(seq, instant, channel), scanning the samples.
func checkEnvValues(t testing.TB, m envMsg, count int, value func(seq uint32, i, c int) float64) {
	t.Helper()
	e := &m.env
	if int(e.Samples) != int(e.Frames())*count {
		t.Fatalf("envelope %d..%d covers %d samples, want %d frames x %d", e.Seq, e.LastSeq, e.Samples, e.Frames(), count)
	}
	for k := 0; k < int(e.Points); k++ {
		from, to := e.Span(k)
		for c := 0; c < int(e.Channels); c++ {
			lo, hi := math.Inf(1), math.Inf(-1)
			for j := from; j < to; j++ {
				v := value(e.Seq+uint32(j/count), j%count, c)
				lo, hi = min(lo, v), max(hi, v)
			}
			if m.lo[c][k] != lo || m.hi[c][k] != hi {
				t.Fatalf("envelope %d..%d (n %d, phase %d) point %d (instants %d..%d) ch %d = %v..%v, want %v..%v",
					e.Seq, e.LastSeq, e.N, e.Phase, k, from, to-1, c, m.lo[c][k], m.hi[c][k], lo, hi)
			}
		}
	}
}

// counterValue is counterPacket's sample: (seq*tCount + i + c) as i16.
func counterValue(seq uint32, i, c int) float64 { return float64(wantSample(seq, i, c)) }

// setBatching sets the channel's batch interval and starts it now, so
// that frames wait in a batch until closeBatch (a long interval) or close
// one by one (0).
func setBatching(ch *Channel, d time.Duration) {
	h := ch.hub
	h.mu.Lock()
	h.env.interval, h.env.lastClose = d, time.Now()
	h.mu.Unlock()
}

// closeBatch closes the batch being filled, as its interval would.
func closeBatch(ch *Channel) {
	h := ch.hub
	h.mu.Lock()
	h.closeBatchLocked()
	h.mu.Unlock()
}

func ctr(ch *Channel, name string) float64 { return ch.Info().Counters[name] }

func TestEnvelopeQueryErrors(t *testing.T) {
	_, base := testServer(t, Options{})
	for _, c := range []struct{ query, says string }{
		{"envelope=6", "bad envelope=6: want sample instants per point, a power of two from 4 to 65536 (4 or 8)"},
		{"envelope=2", "a power of two from 4 to 65536;"},
		{"envelope=131072", "from 4 to 65536;"},
		{"envelope=0", "bad envelope=0"},
		{"envelope=", "bad envelope="},
		{"envelope=64k", "bad envelope=64k"},
		{"envelope=64&format=csv", "envelope=64 comes as format=binary or format=json"},
	} {
		resp, err := http.Get(base + "/ws/default?" + c.query)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), c.says) {
			t.Errorf("?%s: %d %q, want 400 saying %q", c.query, resp.StatusCode, body, c.says)
		}
	}
}

// Envelopes of the simulator's counter signal, from a real simulated
// device through the channel to clients on real sockets: every point is
// exactly the min and max of its samples, envelopes follow each other
// without a hole or an overlap on one grid, JSON says what binary says,
// and they come about 30 times a second, not once per frame.
func TestEnvelopeSimulatorCounter(t *testing.T) {
	ch, base := testServer(t, Options{})
	cfg := adcsim.DefaultConfig()
	cfg.Signal, cfg.Rate, cfg.Channels, cfg.SampleType, cfg.FrameSamples = "counter", 16000, 2, "i16", 80 // 5 ms frames
	bin := testsupport.Dial(t, wsURL(base, "envelope=64"), nil)
	js := testsupport.Dial(t, wsURL(base, "envelope=64&format=json"), nil)
	wide := testsupport.Dial(t, wsURL(base, "envelope=1024"), nil)
	for _, c := range []*websocket.Conn{bin, js, wide} {
		if h := testsupport.ExpectHello(t, c); h.Envelope == 0 || h.Format == "csv" {
			t.Fatalf("hello %+v", h)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	port, err := adcsim.Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		dec := frame.NewDecoder(ch.Packet)
		_, _ = io.Copy(dec, port)
	}()
	t.Cleanup(func() { cancel(); port.Close(); <-done })
	start := time.Now()

	const fs = 80
	value := func(seq uint32, i, c int) float64 { return float64(int16(int64(seq)*fs + int64(i+c))) }
	read := func(c *websocket.Conn, n uint32, until uint32) []envMsg {
		var out []envMsg
		var segStart uint64 // running index where the current segment began
		var next uint32
		for len(out) == 0 || out[len(out)-1].env.LastSeq < until {
			m, err := readEnv(t, c, 5*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			switch m.typ {
			case "gap": // the simulator fell behind on a loaded machine: a new segment
				next, segStart = m.gap.To+1, uint64(m.gap.To+1)*fs
				continue
			case "envelope":
			default:
				continue
			}
			e := &m.env
			if len(out) > 0 && e.Seq != next {
				t.Fatalf("envelope starts at seq %d, want %d", e.Seq, next)
			}
			if want := uint32((uint64(e.Seq)*fs - segStart) % uint64(n)); e.N != n || e.Phase != want {
				t.Fatalf("envelope %d..%d: n %d phase %d, want %d and %d", e.Seq, e.LastSeq, e.N, e.Phase, n, want)
			}
			checkEnvValues(t, m, fs, value)
			next = e.LastSeq + 1
			out = append(out, m)
		}
		return out
	}
	const until = 120 // 600 ms of samples
	b := read(bin, 64, until)
	elapsed := time.Since(start)
	j := read(js, 64, until)
	w := read(wide, 1024, until)
	if len(b) != len(j) {
		t.Fatalf("binary client got %d envelopes, JSON %d", len(b), len(j))
	}
	for i := range b {
		if b[i].env.Seq != j[i].env.Seq || b[i].env.LastSeq != j[i].env.LastSeq || fmt.Sprint(b[i].lo, b[i].hi) != fmt.Sprint(j[i].lo, j[i].hi) ||
			j[i].epoch != ch.Epoch() {
			t.Fatalf("envelope %d: binary %+v, JSON %+v (epoch %q)", i, b[i].env, j[i].env, j[i].epoch)
		}
	}
	if len(w) > len(b)+1 || len(w) < len(b)-1 {
		t.Fatalf("%d envelopes at 1024, %d at 64: both follow the same batches", len(w), len(b))
	}
	// 121 frames in about 600 ms: at most one envelope per 1/30 s (plus the first).
	if max := int(elapsed/envelopeInterval) + 2; len(b) > max || len(b) > until/3 {
		t.Fatalf("%d envelopes for %d frames in %v: want at most %d", len(b), until+1, elapsed, max)
	}
	if n := ctr(ch, "envelope_computations_total"); n < float64(len(b)+len(w)) || n > float64(len(b)+len(w)+4) {
		t.Fatalf("%v envelopes computed for %d + %d sent at two levels", n, len(b), len(w))
	}
	t.Logf("%d envelopes at 64 (%d frames), %d at 1024, in %v", len(b), until+1, len(w), elapsed)
}

// A device gap and a restart reach an envelope client exactly as they
// reach a full-rate one, in the same place: each closes the batch before
// it, so envelopes cover frames up to the gap, none inside it, and the
// grid starts over after it.
func TestEnvelopeGapAndRestart(t *testing.T) {
	ch, base := testServer(t, Options{})
	setBatching(ch, time.Hour)
	env := testsupport.Dial(t, wsURL(base, "envelope=32"), nil)
	full := testsupport.Dial(t, wsURL(base, "format=json"), nil)
	e0 := testsupport.ExpectHello(t, env).Epoch
	testsupport.ExpectHello(t, full)

	publish(t, ch, 0, 10)
	publish(t, ch, 15, 20) // frames 10..14 never came
	publish(t, ch, 0, 5)   // the device restarted its count
	closeBatch(ch)

	m := expectEnv(t, env, "envelope")
	if m.env.Seq != 0 || m.env.LastSeq != 9 || m.env.Phase != 0 || m.env.Samples != 160 || m.env.Points != 5 {
		t.Fatalf("first envelope %+v", m.env)
	}
	checkEnvValues(t, m, tCount, counterValue)
	g := expectEnv(t, env, "gap")
	m = expectEnv(t, env, "envelope")
	if m.env.Seq != 15 || m.env.LastSeq != 19 || m.env.Phase != 0 { // the grid starts over at 15
		t.Fatalf("envelope after the gap %+v", m.env)
	}
	checkEnvValues(t, m, tCount, counterValue)
	st := expectEnv(t, env, "status")
	m = expectEnv(t, env, "envelope")
	if m.env.Seq != 0 || m.env.LastSeq != 4 || m.env.Phase != 0 {
		t.Fatalf("envelope after the restart %+v", m.env)
	}
	checkEnvValues(t, m, tCount, counterValue)

	// The full-rate client got the same gap and restart, byte for byte.
	expectFrames(t, full, 0, 10)
	if fg := expectMsg(t, full, "gap"); string(fg.raw) != string(g.raw) {
		t.Fatalf("gap: envelope client %s, full-rate %s", g.raw, fg.raw)
	}
	expectFrames(t, full, 15, 20)
	if fs := expectMsg(t, full, "status"); string(fs.raw) != string(st.raw) {
		t.Fatalf("status: envelope client %s, full-rate %s", st.raw, fs.raw)
	}
	if g.gap.From != 10 || g.gap.To != 14 || g.gap.Epoch != e0 || st.status.State != wsproto.StateRestart || st.status.Seq != 0 ||
		st.status.Epoch == e0 {
		t.Fatalf("gap %+v, status %+v", g.gap, st.status)
	}
}

// A device that goes down closes the batch first: its frames reach the
// envelope client before the status, not when the device comes back.
func TestEnvelopeDownClosesBatch(t *testing.T) {
	ch, base := testServer(t, Options{})
	setBatching(ch, time.Hour)
	c := testsupport.Dial(t, wsURL(base, "envelope=4&format=json"), nil)
	testsupport.ExpectHello(t, c)
	ch.Up("test")
	expectEnv(t, c, "status")
	publish(t, ch, 0, 3)
	ch.Down("unplugged")
	if m := expectEnv(t, c, "envelope"); m.env.Seq != 0 || m.env.LastSeq != 2 {
		t.Fatalf("envelope %+v", m.env)
	}
	if m := expectEnv(t, c, "status"); m.status.State != wsproto.StateDown {
		t.Fatalf("status %+v", m.status)
	}
}

// Frames that stop coming do not wait for the next one: the batch closes
// two intervals after its first frame.
func TestEnvelopeStalledBatchCloses(t *testing.T) {
	ch, base := testServer(t, Options{})
	setBatching(ch, 20*time.Millisecond)
	c := testsupport.Dial(t, wsURL(base, "envelope=16"), nil)
	testsupport.ExpectHello(t, c)
	publish(t, ch, 0, 3)
	start := time.Now()
	var next uint32
	for next < 3 {
		m := expectEnv(t, c, "envelope")
		if m.env.Seq != next {
			t.Fatalf("envelope %+v, want it to start at %d", m.env, next)
		}
		next = m.env.LastSeq + 1
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("the stalled batch took %v", d)
	}

	// Without envelope clients no timer runs; one that connects while a
	// batch waits arms it, and gets that batch.
	c.CloseNow()
	testsupport.WaitFor(t, 5*time.Second, "the client to leave", func() bool { return clients(ch) == 0 })
	publish(t, ch, 3, 6)
	time.Sleep(100 * time.Millisecond)
	late := testsupport.Dial(t, wsURL(base, "envelope=16"), nil)
	h := testsupport.ExpectHello(t, late)
	for next := h.StartSeq; next < 6; {
		m := expectEnv(t, late, "envelope")
		if m.env.Seq != next {
			t.Fatalf("envelope %+v, want it to start at %d", m.env, next)
		}
		next = m.env.LastSeq + 1
	}
}

// A client that connects while a batch is being filled starts with that
// batch: hello's start_seq is its first frame, the first envelope covers
// it whole.
func TestEnvelopeLiveStart(t *testing.T) {
	ch, base := testServer(t, Options{})
	setBatching(ch, time.Hour)
	publish(t, ch, 0, 4)
	closeBatch(ch)
	publish(t, ch, 4, 7)
	c := testsupport.Dial(t, wsURL(base, "envelope=8"), nil)
	if h := testsupport.ExpectHello(t, c); h.StartSeq != 4 || h.Seq != 7 || h.Envelope != 8 {
		t.Fatalf("hello %+v", h)
	}
	publish(t, ch, 7, 9)
	closeBatch(ch)
	m := expectEnv(t, c, "envelope")
	if m.env.Seq != 4 || m.env.LastSeq != 8 || m.env.Phase != 0 {
		t.Fatalf("envelope %+v", m.env)
	}
	checkEnvValues(t, m, tCount, counterValue)
	if n := ctr(ch, "envelope_client_computations_total"); n != 0 {
		t.Fatalf("%v per-client computations for a live start", n)
	}
}

// Resuming with since and epoch gives exact coverage: from the seq asked
// for, even inside a batch (the rest of that batch is computed for this
// client), on the channel's grid; from another epoch, the restart and the
// current epoch's envelopes.
func TestEnvelopeResume(t *testing.T) {
	ch, base := testServer(t, Options{})
	setBatching(ch, time.Hour)
	publish(t, ch, 0, 10)
	closeBatch(ch)
	publish(t, ch, 10, 20)
	closeBatch(ch)
	epoch := ch.Epoch()

	for _, c := range []struct {
		query         string
		start         uint32
		first, second frame.Envelope // Seq, LastSeq, Phase, Samples
		heads         float64
	}{
		{"since=5", 5, frame.Envelope{Seq: 5, LastSeq: 9, Phase: 16, Samples: 80}, frame.Envelope{Seq: 10, LastSeq: 19, Phase: 0, Samples: 160}, 1},
		{"since=10", 10, frame.Envelope{Seq: 10, LastSeq: 19, Phase: 0, Samples: 160}, frame.Envelope{}, 0},
		{"since=13&format=json", 13, frame.Envelope{Seq: 13, LastSeq: 19, Phase: 16, Samples: 112}, frame.Envelope{}, 1},
	} {
		t.Run(c.query, func(t *testing.T) {
			heads := ctr(ch, "envelope_client_computations_total")
			conn := testsupport.Dial(t, wsURL(base, "envelope=32&epoch="+epoch+"&"+c.query), nil)
			if h := testsupport.ExpectHello(t, conn); h.StartSeq != c.start {
				t.Fatalf("hello start_seq %d, want %d", h.StartSeq, c.start)
			}
			for _, want := range []frame.Envelope{c.first, c.second} {
				if want.LastSeq == 0 {
					continue
				}
				m := expectEnv(t, conn, "envelope")
				if got := m.env; got.Seq != want.Seq || got.LastSeq != want.LastSeq || got.Phase != want.Phase || got.Samples != want.Samples {
					t.Fatalf("envelope %+v, want %+v", got, want)
				}
				checkEnvValues(t, m, tCount, counterValue)
			}
			if n := ctr(ch, "envelope_client_computations_total") - heads; n != c.heads {
				t.Fatalf("%v envelopes computed for this client, want %v", n, c.heads)
			}
		})
	}

	t.Run("at the live seq", func(t *testing.T) {
		conn := testsupport.Dial(t, wsURL(base, "envelope=32&since=20&epoch="+epoch), nil)
		if h := testsupport.ExpectHello(t, conn); h.StartSeq != 20 {
			t.Fatalf("hello %+v", h)
		}
		publish(t, ch, 20, 22)
		closeBatch(ch)
		if m := expectEnv(t, conn, "envelope"); m.env.Seq != 20 || m.env.LastSeq != 21 {
			t.Fatalf("envelope %+v", m.env)
		}
	})

	t.Run("another epoch", func(t *testing.T) {
		conn := testsupport.Dial(t, wsURL(base, "envelope=32&since=3&epoch=0bsolete"), nil)
		testsupport.ExpectHello(t, conn)
		if m := expectEnv(t, conn, "status"); m.status.State != wsproto.StateRestart || m.status.Seq != 0 || m.status.Epoch != epoch {
			t.Fatalf("status %+v", m.status)
		}
		for _, want := range [][2]uint32{{0, 9}, {10, 19}, {20, 21}} {
			if m := expectEnv(t, conn, "envelope"); m.env.Seq != want[0] || m.env.LastSeq != want[1] {
				t.Fatalf("envelope %+v, want %v", m.env, want)
			}
		}
	})
}

// A resume older than the history gets the history gap and then exact
// envelopes from the oldest frame still held, even when the batch holding
// it began with frames the ring has already dropped.
func TestEnvelopeResumeOlderThanHistory(t *testing.T) {
	ch, base := testServer(t, Options{History: 50 * time.Millisecond}) // 50 frames of 1 ms
	setBatching(ch, time.Hour)
	publish(t, ch, 0, 200)
	closeBatch(ch)
	low := ch.Info().History.FirstSeq
	if low == 0 {
		t.Fatal("the history still holds frame 0")
	}
	conn := testsupport.Dial(t, wsURL(base, fmt.Sprintf("envelope=64&since=3&epoch=%s", ch.Epoch())), nil)
	testsupport.ExpectHello(t, conn)
	if g := expectEnv(t, conn, "gap"); g.gap.From != 3 || g.gap.To != low-1 || g.gap.Reason != wsproto.GapHistory {
		t.Fatalf("gap %+v, want 3..%d history", g.gap, low-1)
	}
	m := expectEnv(t, conn, "envelope")
	if m.env.Seq != low || m.env.LastSeq != 199 || m.env.Phase != uint32(low*tCount%64) {
		t.Fatalf("envelope %+v, want %d..199", m.env, low)
	}
	checkEnvValues(t, m, tCount, counterValue)
}

// The envelope of a batch at a level is computed once, however many
// clients ask for it and in whichever format: the computation counter
// grows with batches and levels, not with clients.
func TestEnvelopeComputedOnce(t *testing.T) {
	computations := func(clients int) float64 {
		ch, base := testServer(t, Options{MaxClients: 64})
		setBatching(ch, 0) // every frame is a batch
		var conns []*websocket.Conn
		for i := 0; i < clients; i++ {
			q := "envelope=16"
			if i%2 == 1 {
				q += "&format=json"
			}
			conns = append(conns, testsupport.Dial(t, wsURL(base, q), nil))
		}
		conns = append(conns, testsupport.Dial(t, wsURL(base, "envelope=64"), nil))
		for _, c := range conns {
			testsupport.ExpectHello(t, c)
		}
		publish(t, ch, 0, 40)
		var wg sync.WaitGroup
		for _, c := range conns {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for next := uint32(0); next < 40; {
					m, err := readEnv(t, c, 5*time.Second)
					if err != nil || m.typ != "envelope" || m.env.Seq != next {
						t.Errorf("envelope %d: %v %s", next, err, m.raw)
						return
					}
					next = m.env.LastSeq + 1
				}
			}()
		}
		wg.Wait()
		if b := ctr(ch, "envelope_batches_total"); b != 40 {
			t.Fatalf("%v batches, want 40", b)
		}
		return ctr(ch, "envelope_computations_total")
	}
	one, many := computations(1), computations(20)
	if one != 80 || many != 80 {
		t.Fatalf("envelopes computed for 40 batches at two levels: %v with 1+1 clients, %v with 20+1; want 80 both", one, many)
	}
}

// Cached envelopes count against --history-bytes like JSON renderings;
// an envelope client that falls behind a small history gets an exact
// slow_client gap and envelopes exactly from its end, even when the batch
// there began with frames the ring has dropped.
func TestEnvelopeMemoryAndSlowClient(t *testing.T) {
	ch, base := testServer(t, Options{HistoryBytes: 1 << 16})
	setBatching(ch, 0)
	c := testsupport.Dial(t, wsURL(base, "envelope=4&format=json"), nil)
	testsupport.ExpectHello(t, c)
	publish(t, ch, 0, 400)
	setBatching(ch, time.Hour)
	publish(t, ch, 400, 700) // one batch, longer than the history holds
	closeBatch(ch)
	gaps := 0
	for next := uint32(0); next < 700; {
		m, err := readEnv(t, c, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		switch m.typ {
		case "gap":
			if m.gap.Reason != wsproto.GapSlowClient || m.gap.From != next {
				t.Fatalf("gap %+v, want a slow_client gap from %d", m.gap, next)
			}
			next = m.gap.To + 1
			gaps++
		case "envelope":
			if m.env.Seq != next {
				t.Fatalf("envelope %d..%d, want it to start at %d", m.env.Seq, m.env.LastSeq, next)
			}
			checkEnvValues(t, m, tCount, counterValue)
			next = m.env.LastSeq + 1
		default:
			t.Fatalf("unexpected %s", m.raw)
		}
	}
	if gaps == 0 {
		t.Log("the client kept up: no slow_client gap to check")
	}
	cost, _ := heldCost(ch)
	if metric := ctr(ch, "history_bytes"); cost > 1<<16 || int64(metric) != cost {
		t.Fatalf("history holds %d bytes (metric %v), cap %d", cost, metric, 1<<16)
	}
}

// A mirror channel (fed by the bus) cuts its own batches from the frames,
// gaps and restarts it applies: its envelope clients get what the
// origin's do, exactly covered.
func TestEnvelopeOnMirror(t *testing.T) {
	origin, _ := testServer(t, Options{})
	mirror, mbase := testServer(t, Options{}, ChannelOptions{Name: "default", Mirror: true})
	setBatching(mirror, time.Hour)
	c := testsupport.Dial(t, wsURL(mbase, "envelope=16"), nil)
	testsupport.ExpectHello(t, c)
	pipe(t, origin, mirror)
	publish(t, origin, 0, 8)
	publish(t, origin, 10, 12) // 8..9 lost
	testsupport.WaitFor(t, 5*time.Second, "the mirror to apply frame 11", func() bool { return mirror.Info().Seq == 12 })
	closeBatch(mirror)
	var got []string
	for len(got) < 4 {
		m := expectEnvAny(t, c)
		switch m.typ {
		case "envelope":
			checkEnvValues(t, m, tCount, counterValue)
			got = append(got, fmt.Sprintf("envelope %d..%d", m.env.Seq, m.env.LastSeq))
		case "gap":
			got = append(got, fmt.Sprintf("gap %d..%d", m.gap.From, m.gap.To))
		case "status":
			got = append(got, "status "+m.status.State)
		}
	}
	want := []string{"status restart", "envelope 0..7", "gap 8..9", "envelope 10..11"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("mirror envelope client got %q, want %q", got, want)
	}
}

func expectEnvAny(t testing.TB, c *websocket.Conn) envMsg {
	t.Helper()
	m, err := readEnv(t, c, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// A client that resumes in an epoch that ended while it was away, from
// inside a batch, gets the envelope of the rest of that epoch from its
// resume point, the restart status, and the new count's envelopes: exact
// coverage across the restart.
func TestEnvelopeResumeAcrossRestart(t *testing.T) {
	ch, base := testServer(t, Options{})
	setBatching(ch, time.Hour)
	publish(t, ch, 0, 10)
	old := ch.Epoch()
	publish(t, ch, 0, 4) // the device restarted: the batch 0..9 closed before it
	closeBatch(ch)
	c := testsupport.Dial(t, wsURL(base, "envelope=32&since=6&epoch="+old), nil)
	if h := testsupport.ExpectHello(t, c); h.StartSeq != 6 || h.Epoch != old {
		t.Fatalf("hello %+v", h)
	}
	m := expectEnv(t, c, "envelope")
	if m.env.Seq != 6 || m.env.LastSeq != 9 || m.env.Phase != 6*tCount%32 {
		t.Fatalf("old epoch's tail %+v", m.env)
	}
	checkEnvValues(t, m, tCount, counterValue)
	if st := expectEnv(t, c, "status"); st.status.State != wsproto.StateRestart || st.status.Epoch == old || st.status.Seq != 0 {
		t.Fatalf("status %+v", st.status)
	}
	if m := expectEnv(t, c, "envelope"); m.env.Seq != 0 || m.env.LastSeq != 3 || m.env.Phase != 0 {
		t.Fatalf("new count %+v", m.env)
	}
}
