package conformance

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wsbridge/wsbridge/internal/frame"
	"github.com/wsbridge/wsbridge/internal/frame/frametest"
)

// The sketches are also compiled for the host (g++ -Wall -Wextra -Werror)
// against testdata/shim: fakes of the Arduino core, the ADC continuous
// driver and ESP_I2S that produce counter signals on a fake clock. A script
// drives setup()/loop() and the serial input; the bytes the sketch writes
// are decoded with the Go codec. This checks the sketches' own logic
// (framing, seq, gaps, commands, replies), not the real peripherals.

// buildSketch compiles examples/<name> with the shim and the given -D flags.
func buildSketch(t *testing.T, name string, defines ...string) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), name)
	args := []string{"-std=gnu++17", "-Wall", "-Wextra", "-Werror", "-O0", "-I", "testdata/shim", "-I", "..",
		fmt.Sprintf(`-DSKETCH="../../../examples/%s/%s.ino"`, name, name), "-o", out}
	for _, d := range defines {
		args = append(args, "-D"+d)
	}
	if err := compile(t, "g++", append(args, "testdata/shim/sketch_main.cpp")...); err != nil {
		t.Fatalf("failed to compile %s for the host (%v): %v", name, defines, err)
	}
	return out
}

// runSketch runs a host-built sketch with a script and returns its output.
func runSketch(t *testing.T, bin string, script ...string) []byte {
	t.Helper()
	out, _ := runScript(t, bin, script)
	return out
}

// decodeSketch decodes a sketch's serial output; it must start with the
// lone 0x00 and contain nothing but valid packets.
func decodeSketch(t *testing.T, out []byte) ([]frame.Packet, frame.Stats, []frame.SeqEvent) {
	t.Helper()
	if len(out) == 0 || out[0] != 0 {
		t.Fatalf("output does not start with the resync 0x00: % x", out[:min(len(out), 8)])
	}
	var c frametest.Collector
	d := frame.NewDecoder(c.Packet)
	d.Write(out)
	st := d.Stats()
	if st.NoiseBytes != 0 || st.CRCErrors != 0 || st.Malformed != 0 || st.Oversize != 0 {
		t.Fatalf("sketch output is not clean v1 packets: %+v", st)
	}
	return c.Packets, st, c.Events
}

// control renders the non-data packets as text, in order.
func control(pkts []frame.Packet) []string {
	var s []string
	for _, p := range pkts {
		switch p.Type {
		case frame.TypeInfo:
			s = append(s, fmt.Sprintf("info %d Hz %d ch %s /%d", p.Info.Rate, p.Info.Channels,
				p.Info.SampleType, p.Info.FrameSamples))
		case frame.TypeLog:
			s = append(s, "log "+string(p.Text))
		case frame.TypeReply:
			s = append(s, fmt.Sprintf("reply %d %s", p.Status, p.Text))
		}
	}
	return s
}

func equalLines(t *testing.T, what string, got, want []string) {
	t.Helper()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("%s:\n got %q\nwant %q", what, got, want)
	}
}

// stepFn is the value that follows v in frame f's channel stream.
type stepFn func(v int64, f *frame.Frame) int64

// checkFrames checks the data frames: partial frames only right before a
// control packet, timestamps advancing by each full frame's duration, and
// every channel's sample stream continuous (per next) except for exactly one
// jump of `jump` missing steps, at the one seq gap. It fails if the output
// had no data frames or no consecutive full frames whose timing it checked.
func checkFrames(t *testing.T, pkts []frame.Packet, full int, next stepFn, jump int) {
	t.Helper()
	var prev *frame.Frame
	var last []int64 // last value per channel
	var jumps []int  // jumps per channel
	timed := 0       // frames whose t_dev_us was checked against the previous one
	for i := range pkts {
		if pkts[i].Type != frame.TypeData {
			prev = nil
			continue
		}
		f := &pkts[i].Frame
		if int(f.Count) != full && (i+1 >= len(pkts) || pkts[i+1].Type == frame.TypeData) {
			t.Fatalf("seq %d: short frame (%d of %d) not followed by a command reply or log", f.Seq, f.Count, full)
		}
		if prev != nil && f.Seq == prev.Seq+1 && f.Rate == prev.Rate && int(prev.Count) == full {
			dt, per := int64(f.TimeUS-prev.TimeUS), int64(1e6)/int64(f.Rate)
			if want := int64(full) * 1e6 / int64(f.Rate); dt < want-per || dt > want+per {
				t.Fatalf("seq %d: t_dev_us advanced %d µs after a full frame, want %d ± %d", f.Seq, dt, want, per)
			}
			timed++
		}
		if last == nil {
			last, jumps = make([]int64, f.Channels), make([]int, f.Channels)
			for c := range last {
				last[c] = -1
			}
		}
		for s := 0; s < int(f.Count); s++ {
			for c := 0; c < int(f.Channels); c++ {
				v := f.Int(s, c)
				if last[c] >= 0 && v != next(last[c], f) {
					w := last[c]
					for range jump + 1 {
						w = next(w, f)
					}
					if w != v || jumps[c] > 0 {
						t.Fatalf("seq %d sample %d ch %d: %d after %d: stream not continuous", f.Seq, s, c, v, last[c])
					}
					jumps[c]++
				}
				last[c] = v
			}
		}
		prev = f
	}
	if last == nil || timed == 0 {
		t.Fatalf("%d packets, %d frame timestamps checked: want data frames, some consecutive and full", len(pkts), timed)
	}
	for c, n := range jumps {
		if n != 1 {
			t.Fatalf("channel %d: %d jumps in the sample stream, want exactly 1 (the injected overflow)", c, n)
		}
	}
}

// TestSketchADC runs adc_dma_frames on the host for an ESP32 (1 and 2
// channels) and an ESP32-S3: boot, rate change, bad commands, a driver
// overflow, stop, info, start, then a driver that refuses to start.
func TestSketchADC(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		defines []string
		rate    int
		names   string
		limits  string
		minConv int64 // the chip's minimum ADC conversion rate
	}{
		// 16 kHz (the default) is below the ESP32's 20 kHz DMA minimum: the
		// sketch samples at 32 kHz and averages pairs, then 24 kHz runs plain.
		{"esp32 1ch", []string{"CONFIG_IDF_TARGET_ESP32=1"}, 24000, "GPIO36", "313..2000000 Hz for 1 channel(s)", 20000},
		{"esp32 2ch", []string{"CONFIG_IDF_TARGET_ESP32=1", "WSB_ADC_PINS=36,39"}, 12000, "GPIO36,GPIO39",
			"157..1000000 Hz for 2 channel(s)", 20000},
		{"esp32s3 1ch", []string{"CONFIG_IDF_TARGET_ESP32S3=1"}, 24000, "GPIO1", "10..83333 Hz for 1 channel(s)", 611},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			bin := buildSketch(t, "adc_dma_frames", c.defines...)
			out := runSketch(t, bin, "loop 60", fmt.Sprintf("send rate %d", c.rate), "loop 30",
				"send rate 5", "send foo", "send rate", "send rate 99999999999", "send "+strings.Repeat("x", 70), "loop 1",
				"overflow", "loop 30", "send stop", "loop 5", "send info", "send start", "loop 10",
				"startfail 1", fmt.Sprintf("send rate %d", c.rate), "send start", "loop 1")
			pkts, st, evs := decodeSketch(t, out)
			ch := strings.Count(c.names, ",") + 1
			info := pkts[0].Info
			var names []string
			for _, ci := range info.ChannelInfo {
				names = append(names, ci.Name)
				if ci.Unit != "counts" {
					t.Errorf("channel %s unit %q, want counts", ci.Name, ci.Unit)
				}
			}
			if pkts[0].Type != frame.TypeInfo || info.Name != "esp32-adc" || info.Firmware != "adc_dma_frames 0.1.0" ||
				strings.Join(names, ",") != c.names {
				t.Fatalf("first packet %+v, want the device info", pkts[0])
			}
			r := fmt.Sprint(c.rate)
			equalLines(t, "control packets", control(pkts), []string{
				fmt.Sprintf("info 16000 Hz %d ch u16 /256", ch),
				"reply 0 rate " + r, fmt.Sprintf("info %s Hz %d ch u16 /256", r, ch),
				"reply 1 rate 5 out of range: " + c.limits + " on this chip",
				`reply 1 unknown command "foo"`,
				`reply 1 rate needs a whole number of Hz, e.g. "rate 16000"`,
				`reply 1 rate needs a whole number of Hz, e.g. "rate 16000"`,
				"reply 1 command line too long",
				"log adc pool overflow x1: samples lost",
				"reply 0 stop", fmt.Sprintf("info %s Hz %d ch u16 /256", r, ch), "reply 0 info", "reply 0 start",
				"reply 1 rate " + r + " set, but adc failed to start: check ADC_PINS are ADC1 pins",
				"reply 1 adc failed to start: check ADC_PINS are ADC1 pins",
			})
			if len(evs) != 1 || evs[0].Kind != frame.SeqGap || evs[0].Lost != 1 {
				t.Fatalf("want exactly one 1-frame seq gap for the overflow; stats %+v events %v", st, evs)
			}
			// The fake ADC reads (instant + channel) & 0xFFF; averaging k
			// conversions per sample turns that into steps of k.
			next := func(v int64, f *frame.Frame) int64 {
				conv := int64(f.Rate) * int64(f.Channels)
				return (v + max(1, (c.minConv+conv-1)/conv)) & 0xFFF
			}
			checkFrames(t, pkts, 256, next, 100)
			for _, p := range pkts {
				if p.Type == frame.TypeData && (p.Frame.SampleType != frame.U16 || int(p.Frame.Channels) != ch) {
					t.Fatalf("frame %d: %d ch %s, want %d ch u16", p.Frame.Seq, p.Frame.Channels, p.Frame.SampleType, ch)
				}
			}
		})
	}
}

// TestSketchI2S runs i2s_mic_frames on the host: native USB i32 (24-bit
// values sign-extended, low byte discarded) and UART i16 builds.
func TestSketchI2S(t *testing.T) {
	t.Parallel()
	s24 := func(k int64) int64 { return (k*1237)%(1<<24) - (1 << 23) }
	cases := []struct {
		name     string
		defines  []string
		typ      frame.SampleType
		unit     string
		rateCmd  string
		rateWant string
		value    func(k int64) int64
	}{
		{"s3 usb i32", []string{"CONFIG_IDF_TARGET_ESP32S3=1", "ARDUINO_USB_CDC_ON_BOOT=1"}, frame.I32, "pcm24",
			"rate 48000", "reply 0 rate 48000", s24},
		{"esp32 uart i16", []string{"CONFIG_IDF_TARGET_ESP32=1", "SAMPLE_I16_OVERRIDE"}, frame.I16, "pcm16",
			"rate 48000", "reply 1 rate 48000 needs 102000 B/s, more than the link carries (92160 B/s)",
			func(k int64) int64 { return s24(k) >> 8 }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			bin := buildSketch(t, "i2s_mic_frames", append(c.defines, "FAKE_I2S_CHECK")...)
			out := runSketch(t, bin, "loop 10", "send "+c.rateCmd, "loop 10", "send rate 60000",
				"overflow", "loop 5", "send stop", "loop 3", "send start", "loop 5", "check",
				"send stop", "startfail 1", "send start", "loop 1")
			pkts, st, evs := decodeSketch(t, out)
			in := pkts[0].Info
			if pkts[0].Type != frame.TypeInfo || in.Name != "esp32-inmp441" || len(in.ChannelInfo) != 1 ||
				in.ChannelInfo[0] != (frame.Channel{Name: "mic", Unit: c.unit}) {
				t.Fatalf("first packet %+v, want the device info", pkts[0])
			}
			want := []string{fmt.Sprintf("info 16000 Hz 1 ch %s /256", c.typ), c.rateWant}
			if strings.HasPrefix(c.rateWant, "reply 0") {
				want = append(want, fmt.Sprintf("info 48000 Hz 1 ch %s /256", c.typ))
			}
			want = append(want, "reply 1 rate 60000 out of range: the INMP441 runs at 7813..50000 Hz",
				"log i2s rx overflow x1: samples lost", "reply 0 stop", "reply 0 start",
				"reply 0 stop", "reply 1 i2s failed to start: check PIN_BCLK/PIN_WS/PIN_SD")
			equalLines(t, "control packets", control(pkts), want)
			if len(evs) != 1 || evs[0].Kind != frame.SeqGap || evs[0].Lost != 1 {
				t.Fatalf("want exactly one 1-frame seq gap for the overflow; stats %+v events %v", st, evs)
			}
			// Every sample is value(k) for k = 0, 1, 2, ... with 50 missing at the overflow.
			// Consecutive full frames at one rate are one frame duration apart.
			k, jumped := int64(0), false
			var prev *frame.Frame
			timed := 0
			for i := range pkts {
				p := &pkts[i]
				if p.Type != frame.TypeData {
					prev = nil
					continue
				}
				if p.Frame.SampleType != c.typ {
					t.Fatalf("seq %d is %s, want %s", p.Frame.Seq, p.Frame.SampleType, c.typ)
				}
				if prev != nil && p.Frame.Seq == prev.Seq+1 && p.Frame.Rate == prev.Rate && prev.Count == 256 {
					dt, want := int64(p.Frame.TimeUS-prev.TimeUS), int64(256e6)/int64(p.Frame.Rate)
					if dt < want-1 || dt > want+1 {
						t.Fatalf("seq %d: t_dev_us advanced %d µs after a full frame, want %d ± 1", p.Frame.Seq, dt, want)
					}
					timed++
				}
				prev = &p.Frame
				for i := 0; i < int(p.Frame.Count); i++ {
					v := p.Frame.Int(i, 0)
					if v != c.value(k) && !jumped && v == c.value(k+50) {
						k, jumped = k+50, true
					}
					if v != c.value(k) {
						t.Fatalf("seq %d sample %d = %d, want %d (mic word %d)", p.Frame.Seq, i, v, c.value(k), k)
					}
					k++
				}
			}
			if !jumped || k < 256*20 || timed == 0 {
				t.Fatalf("saw %d samples, overflow jump %v, %d frame timestamps checked; want >= %d, one jump, some timed",
					k, jumped, timed, 256*20)
			}
		})
	}
}

// TestSketchAnalogText runs analog_text on the host and feeds its output to
// the Go TextDecoder, as `wsbridge serve --input text` does.
func TestSketchAnalogText(t *testing.T) {
	t.Parallel()
	bin := buildSketch(t, "analog_text")
	out := runSketch(t, bin, "tick 100", "loop 200", "send rate 1000", "loop 200", "send rate 0",
		"send bogus", "send stop", "loop 200", "send start", "send info", "loop 100")
	var nums []int64
	var replies []string
	for _, l := range strings.Split(strings.TrimSuffix(string(out), "\r\n"), "\r\n") {
		var v int64
		if _, err := fmt.Sscanf(l, "%d", &v); err == nil && !strings.HasPrefix(l, "#") {
			nums = append(nums, v)
		} else if l != "" {
			replies = append(replies, l)
		}
	}
	equalLines(t, "reply lines", replies, []string{
		"# ok info rate=500 channels=1 running", "# ok rate 1000",
		"# err rate must be 1..2000 Hz for text output", `# err unknown command "bogus"`,
		"# ok stop", "# ok start", "# ok info rate=1000 channels=1 running"})
	for i, v := range nums {
		if v != int64(36+i)&0xFFF {
			t.Fatalf("line %d = %d, want %d (analogRead counter)", i, v, (36+i)&0xFFF)
		}
	}
	// 20 ms at 500 Hz + 20 ms at 1000 Hz + 10 ms at 1000 Hz, ±1 per span.
	if n := len(nums); n < 10+20+10-3 || n > 10+20+10+3 {
		t.Fatalf("printed %d samples, want about 40", n)
	}
	var got []frame.Packet
	td := frame.NewTextDecoder(func(p *frame.Packet) { got = append(got, p.Clone()) })
	td.FrameSamples = 1000
	td.Write(out)
	td.Flush()
	var samples, okReplies int
	for _, p := range got {
		switch p.Type {
		case frame.TypeData:
			samples += int(p.Frame.Count)
		case frame.TypeReply:
			if p.Status == frame.ReplyOK {
				okReplies++
			}
		}
	}
	if samples != len(nums) || okReplies != 5 {
		t.Fatalf("TextDecoder saw %d samples and %d ok replies, want %d and 5", samples, okReplies, len(nums))
	}
}
