package web

import (
	"encoding/hex"
	"encoding/json"
	"testing"

	"github.com/wsbridge/wsbridge/internal/frame"
	"github.com/wsbridge/wsbridge/internal/frame/frametest"
)

// jsPacket is what packet.js's parsePacket returns (or the error it throws).
type jsPacket struct {
	Type       string          `json:"type"`
	Seq        uint32          `json:"seq"`
	TUs        uint64          `json:"tUs"`
	Rate       uint32          `json:"rate"`
	Channels   int             `json:"channels"`
	SampleType int             `json:"sampleType"`
	Count      int             `json:"count"`
	Samples    []float64       `json:"samples"`
	Name       string          `json:"name"`
	Firmware   string          `json:"firmware"`
	FrameSamp  int             `json:"frame_samples"`
	SampleName string          `json:"sample_type"`
	ChanInfo   []frame.Channel `json:"channel_info"`
	Text       string          `json:"text"`
	OK         bool            `json:"ok"`
	Error      string          `json:"error"`
}

// decodeInPage runs packet.js in the page on each hex packet.
func decodeInPage(tb *tab, packets []string) []jsPacket {
	arg, _ := json.Marshal(packets)
	var out []jsPacket
	tb.eval(`(async () => {
	  const m = await import("/js/packet.js");
	  const bytes = (h) => Uint8Array.from(h.match(/../g) || [], (x) => parseInt(x, 16)).buffer;
	  return `+string(arg)+`.map((h) => {
	    try {
	      const p = m.parsePacket(bytes(h));
	      if (p.samples) p.samples = Array.from(p.samples);
	      return p;
	    } catch (e) { return { error: e.kind || String(e) }; }
	  });
	})()`, &out)
	return out
}

// TestPageDecoderMatchesGolden runs the page's own decoder (packet.js, in
// the browser) on the shared golden packets and on damaged copies.
func TestPageDecoderMatchesGolden(t *testing.T) {
	tb := newTab(t)
	srv := startServe(t, simOpts{Signal: "sine", Rate: 8000, Channels: 1})
	tb.open(srv.URL)
	var packets []string
	for _, c := range frametest.Golden {
		packets = append(packets, c.Hex)
	}
	good := frametest.Golden[1].Bytes()
	flipped := append([]byte(nil), good...)
	flipped[len(flipped)-6] ^= 0x01
	packets = append(packets, hex.EncodeToString(flipped), hex.EncodeToString(good[:len(good)-1]), "02011c00")
	got := decodeInPage(tb, packets)
	for i, c := range frametest.Golden {
		checkGolden(t, c, got[i])
	}
	n := len(frametest.Golden)
	for i, want := range []string{"crc", "length", "length"} {
		if got[n+i].Error != want {
			t.Errorf("damaged packet %d: page says %+v, want error %q", i, got[n+i], want)
		}
	}
	tb.noProblems()
}

func checkGolden(t *testing.T, c frametest.Case, g jsPacket) {
	t.Helper()
	p := c.Packet
	switch p.Type {
	case frame.TypeData:
		f := p.Frame
		if g.Type != "data" || g.Seq != f.Seq || g.TUs != f.TimeUS || g.Rate != f.Rate || g.Channels != int(f.Channels) ||
			g.SampleType != int(f.SampleType) || g.Count != int(f.Count) || len(g.Samples) != len(c.Values) {
			t.Errorf("%s: page decoded %+v", c.Name, g)
			return
		}
		for i, v := range c.Values {
			if g.Samples[i] != v {
				t.Errorf("%s: sample %d = %v, want %v", c.Name, i, g.Samples[i], v)
			}
		}
	case frame.TypeInfo:
		in := p.Info
		b1, _ := json.Marshal(in.ChannelInfo)
		b2, _ := json.Marshal(g.ChanInfo)
		if g.Type != "info" || g.Name != in.Name || g.Firmware != in.Firmware || g.Rate != in.Rate || g.Channels != int(in.Channels) ||
			g.FrameSamp != int(in.FrameSamples) || g.SampleName != in.SampleType.String() || string(b1) != string(b2) {
			t.Errorf("%s: page decoded %+v", c.Name, g)
		}
	case frame.TypeLog:
		if g.Type != "log" || g.Text != string(p.Text) {
			t.Errorf("%s: page decoded %+v", c.Name, g)
		}
	case frame.TypeReply:
		if g.Type != "reply" || g.Text != string(p.Text) || g.OK != (p.Status == frame.ReplyOK) {
			t.Errorf("%s: page decoded %+v", c.Name, g)
		}
	}
}
