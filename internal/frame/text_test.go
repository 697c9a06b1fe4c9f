package frame_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wsbridge/wsbridge/internal/frame"
)

type textResult struct {
	values  [][]float64 // per frame, interleaved
	seqs    []uint32
	types   []frame.SampleType
	infos   []frame.DeviceInfo
	logs    []string
	replies []string
}

func decodeText(t *testing.T, in string, frameSamples int, splits int) (textResult, frame.Stats) {
	t.Helper()
	var r textResult
	clock := time.Unix(0, 0)
	d := frame.NewTextDecoder(func(p *frame.Packet) {
		switch p.Type {
		case frame.TypeData:
			var v []float64
			for i := 0; i < int(p.Frame.Count); i++ {
				for ch := 0; ch < int(p.Frame.Channels); ch++ {
					v = append(v, p.Frame.Float(i, ch))
				}
			}
			r.values = append(r.values, v)
			r.seqs = append(r.seqs, p.Frame.Seq)
			r.types = append(r.types, p.Frame.SampleType)
		case frame.TypeInfo:
			r.infos = append(r.infos, p.Clone().Info)
		case frame.TypeLog:
			r.logs = append(r.logs, string(p.Text))
		case frame.TypeReply:
			r.replies = append(r.replies, map[uint8]string{0: "ok ", 1: "err "}[p.Status]+string(p.Text))
		}
	})
	d.FrameSamples, d.ConfirmLines = frameSamples, frame.SerialConfirmLines
	d.Now = func() time.Time { clock = clock.Add(time.Millisecond); return clock }
	step := max(1, len(in)/splits)
	for i := 0; i < len(in); i += step {
		d.Write([]byte(in[i:min(len(in), i+step)]))
	}
	d.Flush()
	return r, d.Stats()
}

func channelNames(info frame.DeviceInfo) []string {
	var names []string
	for _, c := range info.ChannelInfo {
		names = append(names, c.Name)
	}
	return names
}

func TestTextForms(t *testing.T) {
	in := "1\n2\r\n3\n4\n" + // single values, LF and CRLF
		"5,6\n7 8\n9\t10\n" + // two channels, three separators
		"a:11,b:12\na:13,b:14\n" // plotter form with names
	r, st := decodeText(t, in, 2, 7)
	want := [][]float64{{1, 2}, {3, 4}, {5, 6, 7, 8}, {9, 10}, {11, 12, 13, 14}}
	if !reflect.DeepEqual(r.values, want) {
		t.Fatalf("values %v, want %v", r.values, want)
	}
	if !reflect.DeepEqual(r.seqs, []uint32{0, 1, 2, 3, 4}) {
		t.Fatalf("seqs %v", r.seqs)
	}
	if len(r.infos) != 3 || !reflect.DeepEqual(channelNames(r.infos[1]), []string{"ch0", "ch1"}) ||
		!reflect.DeepEqual(channelNames(r.infos[2]), []string{"a", "b"}) {
		t.Fatalf("infos %+v", r.infos)
	}
	if st.Frames != 5 || st.NoiseBytes != 0 || st.Malformed != 0 {
		t.Fatalf("stats %+v", st)
	}
}

// The Serial Plotter's labels name the channels, in every form it takes:
// "a:1,b:2", "a:1 b:2", "Temp: 21.5 Hum: 40" (as print("Temp: ") then
// print(t) write it), and labels on some fields only.
func TestTextPlotterLabels(t *testing.T) {
	for _, c := range []struct {
		in    string
		names []string
		vals  []float64
	}{
		{"a:1,b:2\na:3,b:4\n", []string{"a", "b"}, []float64{1, 2, 3, 4}},
		{"left:1 right:-2\nleft:3 right:-4\n", []string{"left", "right"}, []float64{1, -2, 3, -4}},
		{"Temp: 21.5 Hum: 40\r\nTemp: 21.75 Hum: 41\r\n", []string{"Temp", "Hum"}, []float64{21.5, 40, 21.75, 41}},
		{"x:1\t2\nx:3\t4\n", []string{"x", "ch1"}, []float64{1, 2, 3, 4}},
		{"a:1,b:2\n3,4\n", []string{"a", "b"}, []float64{1, 2, 3, 4}}, // a line without labels keeps them
	} {
		r, st := decodeText(t, c.in, 64, 1)
		if len(r.infos) != 1 || !reflect.DeepEqual(channelNames(r.infos[0]), c.names) {
			t.Errorf("%q: infos %+v, want one naming %v", c.in, r.infos, c.names)
		}
		if len(r.values) != 1 || !reflect.DeepEqual(r.values[0], c.vals) || st.Malformed != 0 {
			t.Errorf("%q: values %v (malformed %d), want %v", c.in, r.values, st.Malformed, c.vals)
		}
	}
}

// One short or long line among 3-channel lines (a byte lost on the line,
// two lines run together, a partial first line after opening mid-stream)
// is dropped and counted; it does not change the channels back and forth.
// A real change (two lines in a row agree) is one info, and the line that
// started it is not lost.
func TestTextShapeChangesOnceAndNeverFlaps(t *testing.T) {
	in := "34\n" + // the tail of a line cut by the open
		"1,2,3\n4,5,6\n7\n8,9,10\n11,12,13,14\n15,16,17\n" + // a short and a long stray
		"18,19\n20,21\n22,23\n" // the sketch now prints 2 values
	r, st := decodeText(t, in, 64, 3)
	var got []float64
	for _, v := range r.values {
		got = append(got, v...)
	}
	want := []float64{1, 2, 3, 4, 5, 6, 8, 9, 10, 15, 16, 17, 18, 19, 20, 21, 22, 23}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("values %v, want %v", got, want)
	}
	if len(r.infos) != 2 || r.infos[0].Channels != 3 || r.infos[1].Channels != 2 {
		t.Fatalf("infos %+v, want 3 channels then 2", r.infos)
	}
	if st.Malformed != 3 || st.NoiseBytes != uint64(len("34")+len("7")+len("11,12,13,14")) {
		t.Fatalf("malformed %d noise %d, want 3 lines of %d bytes", st.Malformed, st.NoiseBytes, len("34711,12,13,14"))
	}
}

func TestTextFloatsAndDeviceLines(t *testing.T) {
	in := "1\n2\n# ok rate 8000\n# err unknown command\n# booting\nhello world\nTempérature: 21 °C\n2.5\n" +
		"\x01\x02\xff\n\xc2\x85x\n3\n"
	r, st := decodeText(t, in, 64, 3)
	want := [][]float64{{1, 2}, {2.5, 3}}
	if !reflect.DeepEqual(r.values, want) {
		t.Fatalf("values %v, want %v", r.values, want)
	}
	if !reflect.DeepEqual(r.types, []frame.SampleType{frame.I32, frame.F32}) {
		t.Fatalf("types %v", r.types)
	}
	if !reflect.DeepEqual(r.replies, []string{"ok rate 8000", "err unknown command"}) {
		t.Fatalf("replies %q", r.replies)
	}
	if !reflect.DeepEqual(r.logs, []string{"booting", "hello world", "Température: 21 °C"}) {
		t.Fatalf("logs %q", r.logs)
	}
	if st.NoiseBytes != 6 {
		t.Fatalf("noise %d, want 6 (two garbage lines)", st.NoiseBytes)
	}
}

func TestTextLongLineSkipped(t *testing.T) {
	in := "1\n" + strings.Repeat("9", frame.MaxLineSize+10) + "\n2\n"
	r, st := decodeText(t, in, 64, 5)
	if !reflect.DeepEqual(r.values, [][]float64{{1, 2}}) {
		t.Fatalf("values %v", r.values)
	}
	if st.Oversize != 1 || st.NoiseBytes != frame.MaxLineSize+10 {
		t.Fatalf("stats %+v", st)
	}
}

// A frame's TimeUS is when its first line arrived, counted from the first
// line; a line that changes the shape or brings the first non-integer
// starts a frame at its own arrival.
func TestTextTimestamps(t *testing.T) {
	type got struct {
		seq    uint32
		timeUS uint64
		rate   uint32
	}
	var frames []got
	d := frame.NewTextDecoder(func(p *frame.Packet) {
		if p.Type == frame.TypeData {
			frames = append(frames, got{p.Frame.Seq, p.Frame.TimeUS, p.Frame.Rate})
		}
	})
	d.FrameSamples, d.ConfirmLines = 2, frame.SerialConfirmLines
	clock := time.Unix(100, 0)
	d.Now = func() time.Time { return clock }
	for _, l := range []struct {
		ms   int
		line string
	}{
		{0, "1"}, {10, "2"}, // frame 0 at 0 ms
		{20, "3"},     // frame 1 at 20 ms, cut short by the shape change
		{30, "4,5"},   // frame 2 at 30 ms (the shape changes at 40 ms, when it is confirmed)
		{40, "6,7"},   //
		{50, "8,9"},   // frame 3 at 50 ms, cut short by the float
		{60, "1.5,2"}, // frame 4 at 60 ms
	} {
		clock = time.Unix(100, 0).Add(time.Duration(l.ms) * time.Millisecond)
		d.Write([]byte(l.line + "\n"))
	}
	d.Flush()
	want := []got{{0, 0, 0}, {1, 20000, 0}, {2, 30000, 0}, {3, 50000, 0}, {4, 60000, 0}}
	if !reflect.DeepEqual(frames, want) {
		t.Fatalf("frames %+v\nwant   %+v", frames, want)
	}
}

// rateRun feeds a decoder counter lines as reads arrive, flushing after
// every read as capture does, and records what a client would see.
type rateRun struct {
	d      *frame.TextDecoder
	clock  time.Time
	next   int64
	rates  []uint32 // the rate of every frame, in order
	starts []int64  // the first value of every frame
	times  []uint64 // TimeUS of every frame
	counts []int    // samples of every frame
	infos  []frame.DeviceInfo
}

func newRateRun() *rateRun {
	r := &rateRun{clock: time.Unix(1000, 0)}
	r.d = frame.NewTextDecoder(func(p *frame.Packet) {
		switch p.Type {
		case frame.TypeData:
			r.rates = append(r.rates, p.Frame.Rate)
			r.starts = append(r.starts, p.Frame.Int(0, 0))
			r.times = append(r.times, p.Frame.TimeUS)
			r.counts = append(r.counts, int(p.Frame.Count))
		case frame.TypeInfo:
			r.infos = append(r.infos, p.Clone().Info)
		}
	})
	r.d.Now = func() time.Time { return r.clock }
	r.d.ConfirmLines = frame.SerialConfirmLines
	return r
}

// read delivers n lines arriving at offset at from the start.
func (r *rateRun) read(at time.Duration, n int) {
	r.clock = time.Unix(1000, 0).Add(at)
	var b []byte
	for range n {
		b = strconv.AppendInt(b, r.next, 10)
		b = append(b, '\r', '\n')
		r.next++
	}
	r.d.Write(b)
	r.d.Flush()
}

// stream emits lines at rate Hz from start for d, in writes of per lines,
// each read late by up to jitter (never out of order).
func (r *rateRun) stream(rng *rand.Rand, start, d time.Duration, rate float64, per int, jitter time.Duration) time.Duration {
	return r.streamStalls(rng, start, d, rate, per, jitter, 0)
}

// streamStalls is stream on a busy host: about once every 200 reads the
// reader is off the CPU for up to stall, then reads the backlog at once.
func (r *rateRun) streamStalls(rng *rand.Rand, start, d time.Duration, rate float64, per int, jitter, stall time.Duration) time.Duration {
	period := time.Duration(float64(per) / rate * float64(time.Second))
	last := start
	for at := start; at < start+d; at += period {
		when := at
		if jitter > 0 {
			when += time.Duration(rng.Int64N(int64(jitter)))
		}
		if stall > 0 && rng.IntN(200) == 0 {
			when += time.Duration(rng.Int64N(int64(stall)))
		}
		last = max(last, when)
		r.read(last, per)
	}
	return start + d
}

// announced returns the distinct frame rates in the order they appeared.
func (r *rateRun) announced() []uint32 {
	var out []uint32
	for _, v := range r.rates {
		if len(out) == 0 || out[len(out)-1] != v {
			out = append(out, v)
		}
	}
	return out
}

func (r *rateRun) infoRates() []uint32 {
	var out []uint32
	for _, in := range r.infos {
		out = append(out, in.Rate)
	}
	return out
}

// The rate is measured, announced once (frames carry 0 until then), and
// stays put whatever the arrival jitter: a 1 kHz loop read a line at a
// time, a 16 kHz stream in 10 ms bursts, a 10 Hz sketch, a delay(1) loop
// that really runs at 997.3 Hz.
func TestTextRateSettlesOnce(t *testing.T) {
	for _, c := range []struct {
		name   string
		rate   float64
		per    int
		jitter time.Duration
		want   uint32
		stall  time.Duration
	}{
		{"1kHz line by line", 1000, 1, 300 * time.Microsecond, 1000, 0},
		{"16kHz in 10ms bursts", 16000, 160, 2 * time.Millisecond, 16000, 0},
		{"10Hz", 10, 1, 3 * time.Millisecond, 10, 0},
		{"delay(1) loop", 997.3, 1, 200 * time.Microsecond, 997, 0},
		{"48kHz in 1ms reads", 48000, 48, 500 * time.Microsecond, 48000, 0},
		// A reader off the CPU for up to 300 ms about every 200 reads:
		// over many seeds, every announcement is exact.
		{"1kHz read by a busy host", 1000, 1, 200 * time.Microsecond, 1000, 300 * time.Millisecond},
		{"16kHz read by a busy host", 16000, 160, 2 * time.Millisecond, 16000, 300 * time.Millisecond},
		{"48kHz read by a busy host", 48000, 48, 200 * time.Microsecond, 48000, 300 * time.Millisecond},
	} {
		t.Run(c.name, func(t *testing.T) {
			seeds, d := uint64(1), 6*time.Second
			if c.stall > 0 {
				seeds, d = uint64(max(6, 24000/int(c.rate))), 3*time.Second // 24 runs at 1 kHz, 6 of the costlier ones
			}
			if testing.Short() { // -race -short in CI: a few million lines cost seconds each
				seeds, d = min(seeds, 2), 3*time.Second
			}
			for seed := range seeds {
				r := newRateRun()
				r.streamStalls(rand.New(rand.NewPCG(seed, 2)), 0, d, c.rate, c.per, c.jitter, c.stall)
				checkSettled(t, r, c.want)
			}
		})
	}
}

// checkSettled checks that frames carried rate 0, then want, announced by
// one info soon after RateWindow.
func checkSettled(t *testing.T, r *rateRun, want uint32) {
	t.Helper()
	if got := r.announced(); !reflect.DeepEqual(got, []uint32{0, want}) {
		t.Fatalf("frame rates %v, want 0 then %d", got, want)
	}
	if got := r.infoRates(); !reflect.DeepEqual(got, []uint32{0, want}) {
		t.Fatalf("info rates %v, want 0 (the channels) then %d (the rate, once)", got, want)
	}
	for i, v := range r.rates {
		if v != 0 {
			if at := time.Duration(r.times[i]) * time.Microsecond; at < frame.RateWindow-20*time.Millisecond || at > frame.RateWindow+time.Second {
				t.Errorf("rate announced at %v, want soon after %v", at, frame.RateWindow)
			}
			break
		}
	}
	if r.d.AnnouncedRate() != want {
		t.Fatalf("AnnouncedRate %d", r.d.AnnouncedRate())
	}
}

// A sketch whose delay changes mid-run gets one rate change, announced
// once; a drift within the tolerance, a pause shorter or longer than
// RatePause, and a stall of the reader followed by a burst change nothing.
func TestTextRateChanges(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	type step struct {
		d    time.Duration
		rate float64
	}
	for _, c := range []struct {
		name  string
		steps []step
		want  []uint32
	}{
		{"delay(1) to delay(2)", []step{{6 * time.Second, 1000}, {8 * time.Second, 500}}, []uint32{0, 1000, 500}},
		{"16k to 8k", []step{{5 * time.Second, 16000}, {8 * time.Second, 8000}}, []uint32{0, 16000, 8000}},
		{"10Hz to 100Hz", []step{{5 * time.Second, 10}, {8 * time.Second, 100}}, []uint32{0, 10, 100}},
		{"drift of 1%", []step{{6 * time.Second, 1000}, {8 * time.Second, 1010}}, []uint32{0, 1000}},
		{"pause of 1s", []step{{5 * time.Second, 1000}, {time.Second, 0}, {6 * time.Second, 1000}}, []uint32{0, 1000}},
		{"pause of 5s", []step{{5 * time.Second, 1000}, {5 * time.Second, 0}, {6 * time.Second, 1000}}, []uint32{0, 1000}},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := newRateRun()
			at := time.Duration(0)
			for _, s := range c.steps {
				if s.rate == 0 {
					at += s.d
					continue
				}
				per := max(1, int(s.rate/1000))
				at = r.stream(rng, at, s.d, s.rate, per, 200*time.Microsecond)
			}
			if got := r.announced(); !reflect.DeepEqual(got, c.want) {
				t.Fatalf("frame rates %v, want %v", got, c.want)
			}
			if got := r.infoRates(); !reflect.DeepEqual(got, c.want) {
				t.Fatalf("info rates %v, want %v", got, c.want)
			}
		})
	}
}

// A reader that stalls for 300 ms (a loaded host) and then reads the
// backlog in one burst, every 2 s, or at random about every 200 reads for
// 20 s, does not move the announced rate.
func TestTextRateIgnoresReaderStalls(t *testing.T) {
	r := newRateRun()
	at := time.Duration(0)
	for i := 0; i < 8; i++ {
		r.stream(nil, at, 1700*time.Millisecond, 1000, 1, 0)
		at += 2 * time.Second
		r.read(at, 300) // the lines of the stall, at once
	}
	r.stream(nil, at, 2*time.Second, 1000, 1, 0)
	if got := r.announced(); !reflect.DeepEqual(got, []uint32{0, 1000}) {
		t.Fatalf("frame rates %v, want 0 then 1000", got)
	}
	seeds, d := uint64(3), 20*time.Second
	if testing.Short() {
		seeds, d = 1, 8*time.Second
	}
	for seed := range seeds {
		r := newRateRun()
		r.streamStalls(rand.New(rand.NewPCG(seed, 9)), 0, d, 16000, 160, 2*time.Millisecond, 300*time.Millisecond)
		if got := r.announced(); !reflect.DeepEqual(got, []uint32{0, 16000}) {
			t.Fatalf("seed %d: frame rates %v, want 0 then 16000", seed, got)
		}
	}
}

// Timestamps stay exact whatever the announced rate: a frame's TimeUS is
// its first line's arrival, not its index divided by the rate.
func TestTextTimeFromArrivalNotRate(t *testing.T) {
	r := newRateRun()
	r.stream(nil, 0, 4*time.Second, 997.3, 1, 0) // announced as 997
	rate := 997.3
	period := time.Duration(1 / rate * float64(time.Second)) // as stream spaces them
	for i, start := range r.starts {
		want := uint64(time.Duration(start) * period / time.Microsecond)
		if d := int64(r.times[i]) - int64(want); d < -1 || d > 1 {
			t.Fatalf("frame of line %d at %d µs, want %d", start, r.times[i], want)
		}
	}
}

// A read that brings a burst of lines (a 16 kHz stream written 10 ms at a
// time) dates them back from its arrival at the rate: its frames follow
// each other, sample times never run backwards, and the last line of
// every read is at the read's arrival.
func TestTextBurstTimesFollowOn(t *testing.T) {
	r := newRateRun()
	r.d.FrameSamples = 64
	r.stream(nil, 0, 6*time.Second, 16000, 160, 0)
	var prevEnd float64 = -1
	for i, start := range r.starts {
		rate := float64(r.rates[i])
		if rate == 0 {
			rate = 16000 // frames before the announcement were dated at the rough measure
		}
		tUS := float64(r.times[i])
		late := start > 16000*3/10 // the first 200 ms have no measure to date lines back by
		if late && math.Abs(tUS-prevEnd) > 5 {
			t.Fatalf("frame of line %d at %.0f µs, the previous one ended at %.0f µs", start, tUS, prevEnd)
		}
		// A burst of 160 lines arrives at once: its last line is at the
		// read, line v at (v-159)/16000 s.
		if want := float64(start-159) / 16000 * 1e6; late && math.Abs(tUS-want) > 5 {
			t.Fatalf("frame of line %d at %.0f µs, want %.0f", start, tUS, want)
		}
		prevEnd = tUS + float64(r.counts[i])/rate*1e6
	}
}

// A fixed Rate is announced from the first info and never measured.
func TestTextFixedRate(t *testing.T) {
	r := newRateRun()
	r.d.Rate = 1000
	r.stream(nil, 0, 5*time.Second, 500, 1, 0)
	if got := r.announced(); !reflect.DeepEqual(got, []uint32{1000}) || !reflect.DeepEqual(r.infoRates(), []uint32{1000}) {
		t.Fatalf("frame rates %v, info rates %v, want 1000 only", got, r.infoRates())
	}
}

// A sketch that prints "Temp: 21.5 C" (not numbers: a log line) 1000
// times a second between its samples: its clients get at most
// TextLogBurst log messages at once and TextLogRate a second after that,
// plus one message a second saying how many lines were held back; every
// line is forwarded or counted, replies are never held back, and the
// samples are untouched.
func TestTextLogLinesRateLimited(t *testing.T) {
	var logs, held []string
	var values, replies int
	clock := time.Unix(0, 0)
	d := frame.NewTextDecoder(func(p *frame.Packet) {
		switch p.Type {
		case frame.TypeLog:
			if strings.HasPrefix(string(p.Text), "wsbridge: ") {
				held = append(held, string(p.Text))
			} else {
				logs = append(logs, string(p.Text))
			}
		case frame.TypeReply:
			replies++
		case frame.TypeData:
			values += int(p.Frame.Count)
		}
	})
	d.Now = func() time.Time { return clock }
	const n, secs = 3000, 3
	for i := range n {
		clock = clock.Add(time.Millisecond)
		line := "Temp: 21.5 C\n" + strconv.Itoa(i) + "\n"
		if i%500 == 0 {
			line += "# ok rate 1000\n"
		}
		d.Write([]byte(line))
		d.Flush()
	}
	clock = clock.Add(2 * time.Second) // quiet: the last count is said
	d.Flush()
	if min, max := frame.TextLogRate*secs, frame.TextLogBurst+frame.TextLogRate*secs; len(logs) < min || len(logs) > max {
		t.Errorf("%d log messages forwarded over %ds, want %d..%d", len(logs), secs, min, max)
	}
	said := 0
	for _, h := range held {
		var k int
		var over float64
		if _, err := fmt.Sscanf(h, "wsbridge: %d more lines of device text in the last %fs", &k, &over); err != nil {
			t.Fatalf("report %q: %v", h, err)
		}
		said += k
	}
	st := d.Stats()
	if len(logs)+said != n || st.LogsSuppressed != uint64(said) {
		t.Errorf("forwarded %d + said held %d (stats %d), want %d lines accounted for", len(logs), said, st.LogsSuppressed, n)
	}
	if len(held) < secs || len(held) > secs+1 {
		t.Errorf("%d reports of held lines over %ds, want one a second: %q", len(held), secs, held)
	}
	if replies != n/500 || values != n {
		t.Errorf("replies %d values %d, want %d and %d", replies, values, n/500, n)
	}
}

// A sketch printing micros() with a reading: once micros() passes 2^31
// (36 minutes) the stream becomes f32, which rounds whole numbers beyond
// 2^24. The rounding is said once, in a log message before the first
// frame it touches; exact values (below 2^24, or 2^25 itself) say nothing.
func TestTextWholeNumbersBeyondF32SaidOnce(t *testing.T) {
	in := "16777215,1\n33554432,2\n" + // i32
		"2147483650,3\n2147483651,4\n" + // beyond int32: f32 from here, and rounded
		"2147483652,5\n"
	r, _ := decodeText(t, in, 64, 5)
	if len(r.logs) != 1 || !strings.HasPrefix(r.logs[0], "wsbridge: 2147483650 arrived as 2147483648: ") {
		t.Fatalf("logs %q, want one saying 2147483650 arrived as 2147483648", r.logs)
	}
	if want := []frame.SampleType{frame.I32, frame.F32}; !reflect.DeepEqual(r.types, want) {
		t.Fatalf("types %v, want %v", r.types, want)
	}
	exact, _ := decodeText(t, "1.5,16777216\n2.5,33554432\n", 64, 1)
	if len(exact.logs) != 0 {
		t.Fatalf("logs %q for values f32 holds exactly", exact.logs)
	}
}
