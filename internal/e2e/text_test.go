package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/wsbridge/wsbridge/internal/adcsim"
	"github.com/wsbridge/wsbridge/internal/frame"
	"github.com/wsbridge/wsbridge/internal/serve"
	"github.com/wsbridge/wsbridge/internal/sink"
	"github.com/wsbridge/wsbridge/internal/vport"
	"github.com/wsbridge/wsbridge/internal/wsproto"
)

// textFrame is what a JSON client needs of one frame to judge the rate.
type textFrame struct {
	seq   uint32
	rate  uint32
	tUS   uint64
	count int
	at    time.Time // when the client received it
}

// textRec is a ?format=json client of serve reading a text input: it
// checks every counter value (counterCheck) and keeps the frames' rates,
// the info messages and the logs.
type textRec struct {
	conn *websocket.Conn
	chk  *counterCheck
	done chan struct{}

	mu      sync.Mutex
	hello   wsproto.Hello
	frames  []textFrame
	infos   []wsproto.Device
	logs    []string
	replies []string
	other   []string
	err     error
}

func dialTextRec(t testing.TB, url string, chans int) *textRec {
	t.Helper()
	conn, err := dialWS(url+"?format=json", nil)
	if err != nil {
		t.Fatalf("dial %s: %v", url, err)
	}
	r := &textRec{conn: conn, chk: newCounterCheck(chans), done: make(chan struct{})}
	go r.loop()
	t.Cleanup(func() { conn.CloseNow(); <-r.done })
	return r
}

func (r *textRec) loop() {
	defer close(r.done)
	for {
		_, b, err := r.conn.Read(context.Background())
		if err != nil {
			r.mu.Lock()
			r.err = err
			r.mu.Unlock()
			return
		}
		r.message(b)
	}
}

func (r *textRec) message(b []byte) {
	var m struct {
		Type    string         `json:"type"`
		Seq     uint32         `json:"seq"`
		Rate    uint32         `json:"rate"`
		TUS     uint64         `json:"t_dev_us"`
		Samples [][]int64      `json:"samples"`
		Device  wsproto.Device `json:"device"`
		Text    string         `json:"text"`
	}
	if err := json.Unmarshal(b, &m); err != nil {
		r.add(&r.other, "undecodable: "+string(b))
		return
	}
	switch m.Type {
	case wsproto.TypeFrame:
		n := len(m.Samples[0])
		r.chk.channels(m.Samples)
		r.mu.Lock()
		r.frames = append(r.frames, textFrame{m.Seq, m.Rate, m.TUS, n, time.Now()})
		r.mu.Unlock()
	case wsproto.TypeInfo:
		r.mu.Lock()
		r.infos = append(r.infos, m.Device)
		r.mu.Unlock()
	case wsproto.TypeLog:
		r.add(&r.logs, m.Text)
	case wsproto.TypeReply:
		r.add(&r.replies, m.Text)
	case wsproto.TypeHello:
		r.mu.Lock()
		_ = json.Unmarshal(b, &r.hello)
		r.mu.Unlock()
	case wsproto.TypeStatus:
	default:
		r.add(&r.other, string(b))
	}
}

func (r *textRec) add(list *[]string, s string) {
	r.mu.Lock()
	*list = append(*list, s)
	r.mu.Unlock()
}

// span is the device time covered by the frames so far.
func (r *textRec) span() time.Duration {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.frames) == 0 {
		return 0
	}
	return time.Duration(r.frames[len(r.frames)-1].tUS-r.frames[0].tUS) * time.Microsecond
}

// waitSpan waits until the frames cover d of device time.
func (r *textRec) waitSpan(t testing.TB, d, limit time.Duration) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for r.span() < d {
		if time.Now().After(deadline) {
			t.Fatalf("frames cover %v after %v, want %v (%s)", r.span(), limit, d, r.chk.state())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitSamples waits until the client has checked at least n sample
// instants (a simulator starved of CPU falls behind and catches up later).
func (r *textRec) waitSamples(t testing.TB, n int64, limit time.Duration) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for r.chk.state().Samples < n && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
}

// rates returns the distinct frame rates in order of appearance, the
// device time (t_dev_us: since the stream's first line) of the first frame
// with each, and the rate at which lines reached the client in the
// RateWindow before it: a simulator starved of CPU by a busy machine
// delivers lines late, then in a burst, and serve rightly measures what
// arrived.
func (r *textRec) rates() (rates []uint32, at []time.Duration, arrived []float64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i, f := range r.frames {
		if len(rates) == 0 || rates[len(rates)-1] != f.rate {
			rates = append(rates, f.rate)
			at = append(at, time.Duration(f.tUS)*time.Microsecond)
			arrived = append(arrived, r.arrivedBefore(i))
		}
	}
	return rates, at, arrived
}

// arrivedBefore is the rate at which lines reached the client (by the
// wall clock) over the RateWindow before frame i arrived, or over what it
// saw if it connected later; 0 if it saw less than a quarter of that. The
// caller holds the lock.
//
// The wall clock, not t_dev_us: serve dates the lines of a read back from
// its arrival at the rate, so the burst that a starved serve reads at once
// compresses device time (an announcement "at 1.19 s of device time"
// after 2 s of arrivals), and a window of device time would miss it.
func (r *textRec) arrivedBefore(i int) float64 {
	end := r.frames[i].at
	start := end.Add(-frame.RateWindow)
	if first := r.frames[0].at; first.After(start) {
		start = first
	}
	if end.Sub(start) < frame.RateWindow/4 {
		return 0
	}
	n := 0
	for j := i - 1; j >= 0 && !r.frames[j].at.Before(start); j-- {
		n += r.frames[j].count
	}
	return float64(n) / end.Sub(start).Seconds()
}

// arrivals counts the lines that reached the client in each step of wall
// time up to the first frame with a measured rate, oldest first (for a
// failure's message: a stall, a burst, a slow simulator).
func (r *textRec) arrivals(step time.Duration) []int {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.frames) == 0 {
		return nil
	}
	end := len(r.frames) - 1
	for i, f := range r.frames {
		if f.rate != 0 {
			end = i
			break
		}
	}
	first := r.frames[0].at
	out := make([]int, int(r.frames[end].at.Sub(first)/step)+1)
	for _, f := range r.frames[:end] {
		out[int(f.at.Sub(first)/step)] += f.count
	}
	return out
}

// last is the device time of the newest frame.
func (r *textRec) last() time.Duration {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.frames) == 0 {
		return 0
	}
	return time.Duration(r.frames[len(r.frames)-1].tUS) * time.Microsecond
}

// infoRates returns the rates of the info messages received.
func (r *textRec) infoRates() []uint32 {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []uint32
	for _, d := range r.infos {
		out = append(out, d.Rate)
	}
	return out
}

// textChain is a simulated sketch printing counter lines on a pty, serve
// with nothing but --port, a JSON client and a csv sink read as R reads it.
type textChain struct {
	sim  *simRig
	srv  *serveRig
	rec  *textRec
	sink *sinkRig
	chk  *counterCheck // the sink's reader
}

func startTextChain(t *testing.T, cfg adcsim.Config, edit func(o *serve.Options)) *textChain {
	return startTextChainSink(t, cfg, edit, nil)
}

// startTextChainSink is startTextChain with the sink's options edited too.
func startTextChainSink(t *testing.T, cfg adcsim.Config, edit func(o *serve.Options), editSink func(o *sink.Options)) *textChain {
	t.Helper()
	c := &textChain{chk: newCounterCheck(cfg.Channels)}
	c.sim = startSim(t, cfg, 0, 0)
	o := serve.DefaultOptions()
	o.Capture.Port = c.sim.link // and nothing else: input auto, rate measured
	if edit != nil {
		edit(&o)
	}
	c.srv = startServe(t, o)
	c.rec = dialTextRec(t, c.srv.ws, cfg.Channels)
	so := sink.DefaultOptions()
	so.URL, so.StatusInterval = c.srv.ws, 0
	if editSink != nil {
		editSink(&so)
	}
	c.sink = startSink(t, so, c.chk)
	return c
}

// textCounterConfig is a sketch printing the counter (i32) as text lines.
func textCounterConfig(rate uint32, chans int, wire string) adcsim.Config {
	cfg := counterConfig(rate, chans, 0) // 10 ms of lines per write, as a USB bridge batches them
	cfg.Wire = wire
	return cfg
}

// checkExact fails unless a counter reader saw every value once, in order.
func checkExact(t *testing.T, who string, st counterState, min int64) {
	t.Helper()
	if st.Lost.total() != 0 || st.Dups != 0 || st.NBad != 0 || st.Samples < min {
		t.Errorf("%s: %s; want every value once, in order, at least %d", who, st, min)
	}
}

// checkRateOnce checks what the JSON client saw of the rate: frames carry
// 0 until the rate is measured, then one rate within the tolerance of
// want, announced by exactly one info message.
func checkRateOnce(t *testing.T, rec *textRec, want uint32) uint32 {
	t.Helper()
	rates, at, arrived := rec.rates()
	if len(rates) != 2 || rates[0] != 0 {
		t.Fatalf("frame rates %v (from %v), want 0 then one rate", rates, at)
	}
	got := rates[1]
	late := at[1] < frame.RateWindow-100*time.Millisecond || at[1] > frame.RateWindow+2*time.Second
	if (!nearRate(got, want) || late) && busy(arrived[1], want) {
		t.Skipf("announced %d at %v of device time: lines reached the client at %.0f/s, not %d/s, while serve measured: the machine is too busy to run the simulator at its rate (load %s)",
			got, at[1], arrived[1], want, loadAvg())
	}
	if !nearRate(got, want) {
		t.Errorf("announced rate %d, want %d within %.0f%% (lines arrived at %.0f/s; lines per 250 ms before the announcement: %v)",
			got, want, 100*frame.RateTolerance, arrived[1], rec.arrivals(250*time.Millisecond))
	}
	if late {
		t.Errorf("rate announced at %v of device time, want soon after %v (lines arrived at %.0f/s)", at[1], frame.RateWindow, arrived[1])
	}
	var announced []uint32
	for _, r := range rec.infoRates() {
		if r != 0 {
			announced = append(announced, r)
		}
	}
	if !slices.Equal(announced, []uint32{got}) {
		t.Errorf("info messages announced rates %v, want [%d] once", announced, got)
	}
	return got
}

// busy reports whether lines reached serve at a rate more than the
// tolerance away from the simulator's (it falls behind, or blocks on a full
// pty while serve, starved of CPU, does not read it, then catches up).
func busy(arrived float64, want uint32) bool {
	return arrived > 0 && math.Abs(arrived-float64(want)) > frame.RateTolerance*float64(want)
}

// loadAvg is the 1-minute load average, for a skip message.
func loadAvg() string {
	b, _ := os.ReadFile("/proc/loadavg")
	if f := strings.Fields(string(b)); len(f) > 0 {
		return f[0]
	}
	return "unknown"
}

// nearRate reports whether an announced rate is within the tolerance of
// the sketch's (on a busy host the estimate may be off by 0.1%).
func nearRate(got, want uint32) bool {
	return math.Abs(float64(got)-float64(want)) <= frame.RateTolerance*float64(want)
}

// The simulator's text wire at 10, 1000 and 16000 lines/s with 1 and 3
// channels, into serve with only --port: the JSON client and the sink's
// reader get every value once and in order; the rate is announced once,
// after the settling window, and never changes; the sink logs no change
// of stream parameters.
func TestTextInputRateAndOrder(t *testing.T) {
	cases := []struct {
		rate  uint32
		chans int
	}{{10, 1}, {10, 3}, {1000, 1}, {1000, 3}, {16000, 1}, {16000, 3}}
	for _, c := range cases {
		t.Run(fmt.Sprintf("%dHz/%dch", c.rate, c.chans), func(t *testing.T) {
			if testing.Short() && !(c.rate == 1000 && c.chans == 3) {
				t.Skip("-short runs 1000 Hz with 3 channels only")
			}
			t.Parallel()
			ch := startTextChain(t, textCounterConfig(c.rate, c.chans, adcsim.WireText), nil)
			ch.rec.waitSpan(t, frame.RateWindow+2*time.Second, 20*time.Second)
			got := checkRateOnce(t, ch.rec, c.rate)
			min := int64(c.rate) * 7 / 2 // at least 3.5 s of lines
			ch.rec.waitSamples(t, min, 10*time.Second)
			checkExact(t, "json client", ch.rec.chk.state(), min)
			ch.sink.reader.waitLines(t, min, 10*time.Second)
			ch.sink.stop(t)
			checkExact(t, "sink's reader", ch.chk.state(), min)
			if l := ch.sink.log.LogEntries("stream parameters changed"); len(l) != 0 {
				t.Errorf("sink logged 'stream parameters changed' %d times: %v", len(l), l)
			}
			if l := ch.srv.log.LogEntries("input detected"); len(l) != 1 || l[0]["input"] != "text" {
				t.Errorf("serve's input detection: %v, want text once", l)
			}
			t.Logf("announced %d Hz; %s", got, ch.rec.chk.state())
		})
	}
}

// A sketch that changes its delay mid-run (the simulator's rate command,
// sent by a client) gets one rate change, announced by one info message;
// the sink logs it once; no value is lost or repeated across it.
func TestTextInputRateChangeOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("runs 9 s of stream")
	}
	t.Parallel()
	ch := startTextChain(t, textCounterConfig(1000, 2, adcsim.WireText), func(o *serve.Options) {
		o.Relay.AllowCommands = true
	})
	ch.rec.waitSpan(t, frame.RateWindow+500*time.Millisecond, 20*time.Second)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	b, _ := json.Marshal(wsproto.Command{Type: wsproto.TypeCommand, Line: "rate 500"})
	if err := ch.rec.conn.Write(ctx, websocket.MessageText, b); err != nil {
		t.Fatal(err)
	}
	changed, from := ch.rec.last(), ch.rec.span()
	ch.rec.waitSpan(t, from+frame.RateHold+frame.RateWindow+time.Second, 30*time.Second)
	rates, at, arrived := ch.rec.rates()
	if len(rates) == 2 && busy(arrived[1], 1000) || len(rates) == 3 && busy(arrived[1], 1000) {
		t.Skipf("lines reached serve at %.0f/s, not 1000/s, while it measured: the machine is too busy to run the simulator at its rate (load %s)", arrived[1], loadAvg())
	}
	if len(rates) != 3 || rates[0] != 0 || !nearRate(rates[1], 1000) || !nearRate(rates[2], 500) {
		t.Fatalf("frame rates %v (from %v), want 0, 1000, then 500 (each within %.0f%%)", rates, at, 100*frame.RateTolerance)
	}
	if d := at[2] - changed; d < frame.RateHold || d > frame.RateHold+frame.RateWindow+time.Second {
		t.Errorf("new rate announced %v after the change, want %v to %v", d, frame.RateHold, frame.RateHold+frame.RateWindow)
	}
	var announced []uint32
	for _, r := range ch.rec.infoRates() {
		if r != 0 {
			announced = append(announced, r)
		}
	}
	if !slices.Equal(announced, rates[1:]) {
		t.Errorf("info messages announced %v, want %v, each once", announced, rates[1:])
	}
	ch.rec.waitSamples(t, 4000, 10*time.Second)
	checkExact(t, "json client", ch.rec.chk.state(), 4000)
	ch.sink.reader.waitLines(t, 4000, 10*time.Second)
	ch.sink.stop(t)
	checkExact(t, "sink's reader", ch.chk.state(), 4000)
	if l := ch.sink.log.LogEntries("stream parameters changed"); len(l) != 1 || l[0]["rate"] != float64(rates[2]) {
		t.Errorf("sink logged %v, want one 'stream parameters changed' to rate %d", l, rates[2])
	}
	ch.rec.mu.Lock()
	defer ch.rec.mu.Unlock()
	if !slices.Contains(ch.rec.replies, "rate 500") {
		t.Errorf("replies %q, want the sketch's 'ok rate 500'", ch.rec.replies)
	}
}

// Plotter-labelled lines (the simulator's plotter wire) keep their names:
// the channels are called as the sketch labels them, in the device info a
// JSON client gets and in the csv header `sink --header` writes for R;
// the values are exact.
func TestTextInputPlotterLabels(t *testing.T) {
	t.Parallel()
	ch := startTextChainSink(t, textCounterConfig(1000, 3, adcsim.WirePlotter), nil, func(o *sink.Options) { o.Header = true })
	ch.rec.waitSpan(t, 500*time.Millisecond, 10*time.Second)
	want := []string{"counter0", "counter1", "counter2"}
	ch.rec.mu.Lock()
	devs := append([]wsproto.Device(nil), ch.rec.infos...)
	if ch.rec.hello.Device != nil {
		devs = append(devs, *ch.rec.hello.Device)
	}
	ch.rec.mu.Unlock()
	if len(devs) == 0 {
		t.Fatal("no device description in hello or info")
	}
	for _, d := range devs {
		var names []string
		for _, c := range d.ChannelInfo {
			names = append(names, c.Name)
		}
		if !slices.Equal(names, want) {
			t.Errorf("channel names %v, want %v", names, want)
		}
	}
	ch.rec.waitSamples(t, 400, 10*time.Second)
	checkExact(t, "json client", ch.rec.chk.state(), 400)
	ch.sink.reader.waitLines(t, 400, 10*time.Second)
	ch.sink.stop(t)
	// The sink's reader takes every line for the counter: the header is
	// its one line that is not.
	st := ch.chk.state()
	if header := fmt.Sprintf("not a counter line: %q", strings.Join(want, ",")); st.NBad != 1 || st.Bad[0] != header {
		t.Errorf("sink's port: %d lines not the counter %q, want only the header %s", st.NBad, st.Bad, header)
	}
	if st.Lost.total() != 0 || st.Dups != 0 || st.Samples < 400 {
		t.Errorf("sink's reader: %s", st)
	}
}

// What a plain sketch prints besides numbers arrives as log messages, in
// order with the data; garbage does not.
func TestTextInputLogLines(t *testing.T) {
	t.Parallel()
	p, err := vport.Create("")
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	o := serve.DefaultOptions()
	o.Capture.Port = p.Name()
	srv := startServe(t, o)
	rec := dialTextRec(t, srv.ws, 2)
	var in strings.Builder
	in.WriteString("\xe0\x12\x80\x07boot\r\nboot ok\r\n")
	for i := 0; i < 10; i++ {
		fmt.Fprintf(&in, "%d,%d\r\n", i, i+1)
	}
	in.WriteString("Température: 21 °C\r\n")
	for i := 10; i < 20; i++ {
		fmt.Fprintf(&in, "%d,%d\r\n", i, i+1)
	}
	if _, err := p.Write([]byte(in.String())); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for rec.chk.state().Samples < 20 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	checkExact(t, "json client", rec.chk.state(), 20)
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if want := []string{"boot ok", "Température: 21 °C"}; !slices.Equal(rec.logs, want) {
		t.Errorf("logs %q, want %q", rec.logs, want)
	}
}
