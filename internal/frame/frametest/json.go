package frametest

import (
	"encoding/json"

	"github.com/wsbridge/wsbridge/internal/frame"
)

// JSONFile is where JSON's output is checked in, relative to this
// package's directory, for decoders in other languages (the page's
// JavaScript, the client examples). TestJSONIsCurrent keeps it in step.
const JSONFile = "golden.json"

// jsonGood is a good case as golden.json carries it.
type jsonGood struct {
	Name   string `json:"name"`
	Hex    string `json:"hex"`
	Serial string `json:"serial"`
	Type   string `json:"type"` // data, info, log, reply

	// data
	Seq        *uint32   `json:"seq,omitempty"`
	TimeUS     *uint64   `json:"t_dev_us,omitempty"`
	Rate       uint32    `json:"rate,omitempty"`
	Channels   uint8     `json:"channels,omitempty"`
	SampleType string    `json:"sample_type,omitempty"`
	Count      *uint16   `json:"count,omitempty"`
	Values     []float64 `json:"values,omitempty"` // interleaved: instant 0's channels, then instant 1's, ...

	// info
	FrameSamples uint16          `json:"frame_samples,omitempty"`
	Device       string          `json:"device,omitempty"`
	Firmware     string          `json:"firmware,omitempty"`
	ChannelInfo  []frame.Channel `json:"channel_info,omitempty"`

	// log, reply
	Text   *string `json:"text,omitempty"`
	Status *uint8  `json:"status,omitempty"`
}

// jsonBad is a failing case as golden.json carries it.
type jsonBad struct {
	Name   string `json:"name"`
	Layer  string `json:"layer"`
	Hex    string `json:"hex,omitempty"`
	Serial string `json:"serial"`
	Error  string `json:"error"`
}

// JSON returns the golden tables (Golden and Failing) as the JSON file
// that decoders outside Go read: {"good": [...], "bad": [...]}, each
// case named, with its packet and serial bytes in hex; a good case also
// has what it decodes to, a bad one its layer and error kind (Bad.Kind).
func JSON() []byte {
	doc := struct {
		About       string            `json:"about"`
		Good        []jsonGood        `json:"good"`
		Bad         []jsonBad         `json:"bad"`
		Envelopes   []jsonEnvelope    `json:"envelopes"`
		EnvelopeBad []jsonBadEnvelope `json:"envelope_bad"`
	}{About: "wsbridge v1 packets that every decoder must agree on (docs/protocol.md). " +
		"Generated from internal/frame/frametest by `go test ./internal/frame/frametest -update`; do not edit."}
	for _, c := range Envelopes {
		doc.Envelopes = append(doc.Envelopes, envelopeJSON(&c))
	}
	for _, b := range EnvelopeFailing {
		doc.EnvelopeBad = append(doc.EnvelopeBad, jsonBadEnvelope{Name: b.Name, Hex: b.Hex, Error: b.Kind()})
	}
	for _, c := range Golden {
		doc.Good = append(doc.Good, goodJSON(&c))
	}
	for _, b := range Failing {
		doc.Bad = append(doc.Bad, jsonBad{Name: b.Name, Layer: b.Layer, Hex: b.Hex, Serial: b.Serial, Error: b.Kind()})
	}
	out, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		panic(err)
	}
	return append(out, '\n')
}

func goodJSON(c *Case) jsonGood {
	p := &c.Packet
	g := jsonGood{Name: c.Name, Hex: c.Hex, Serial: c.Serial, Type: p.Type.String()}
	switch p.Type {
	case frame.TypeData:
		f := p.Frame
		g.Seq, g.TimeUS, g.Count = &f.Seq, &f.TimeUS, &f.Count
		g.Rate, g.Channels, g.SampleType, g.Values = f.Rate, f.Channels, f.SampleType.String(), c.Values
	case frame.TypeInfo:
		in := p.Info
		g.Rate, g.Channels, g.SampleType, g.FrameSamples = in.Rate, in.Channels, in.SampleType.String(), in.FrameSamples
		g.Device, g.Firmware, g.ChannelInfo = in.Name, in.Firmware, in.ChannelInfo
	case frame.TypeLog:
		text := string(p.Text)
		g.Text = &text
	case frame.TypeReply:
		text, status := string(p.Text), p.Status
		g.Text, g.Status = &text, &status
	}
	return g
}

// jsonEnvelope is a golden envelope as golden.json carries it: the
// header's fields and, per channel, the points' minima and maxima (null
// for NaN, which JSON cannot carry).
type jsonEnvelope struct {
	Name       string       `json:"name"`
	Hex        string       `json:"hex"`
	Seq        uint32       `json:"seq"`
	LastSeq    uint32       `json:"last_seq"`
	TimeUS     uint64       `json:"t_dev_us"`
	Rate       uint32       `json:"rate"`
	Samples    uint32       `json:"samples"`
	N          uint32       `json:"n"`
	Phase      uint32       `json:"phase"`
	Channels   uint8        `json:"channels"`
	SampleType string       `json:"sample_type"`
	Points     uint16       `json:"points"`
	Min        [][]*float64 `json:"min"`
	Max        [][]*float64 `json:"max"`
}

// jsonBadEnvelope is a failing envelope as golden.json carries it.
type jsonBadEnvelope struct {
	Name  string `json:"name"`
	Hex   string `json:"hex"`
	Error string `json:"error"`
}

func envelopeJSON(c *EnvelopeCase) jsonEnvelope {
	e := c.Envelope
	j := jsonEnvelope{Name: c.Name, Hex: c.Hex, Seq: e.Seq, LastSeq: e.LastSeq, TimeUS: e.TimeUS, Rate: e.Rate,
		Samples: e.Samples, N: e.N, Phase: e.Phase, Channels: e.Channels, SampleType: e.SampleType.String(), Points: e.Points,
		Min: make([][]*float64, e.Channels), Max: make([][]*float64, e.Channels)}
	val := func(i int) *float64 {
		if v := c.Values[i]; v == v {
			return &v
		}
		return nil
	}
	for ch := 0; ch < int(e.Channels); ch++ {
		j.Min[ch], j.Max[ch] = []*float64{}, []*float64{}
		for k := 0; k < int(e.Points); k++ {
			i := (k*int(e.Channels) + ch) * 2
			j.Min[ch] = append(j.Min[ch], val(i))
			j.Max[ch] = append(j.Max[ch], val(i+1))
		}
	}
	return j
}
