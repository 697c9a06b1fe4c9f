// Package ingesttest holds the table of device messages, good and bad,
// that every decoder of device messages must agree on: ingest.Decoder
// (serve's /pub and pull sources) and the sink's --input json|text. Each
// bad message names the refusal it must produce.
package ingesttest

import (
	"encoding/binary"
	"strings"

	"github.com/wsbridge/wsbridge/internal/frame"
	"github.com/wsbridge/wsbridge/internal/frame/frametest"
)

// Msg is one WebSocket message from a device.
type Msg struct {
	Binary bool
	Data   []byte
}

// Text and Bin build messages.
func Text(s string) Msg   { return Msg{Data: []byte(s)} }
func Bin(b []byte) Msg    { return Msg{Binary: true, Data: b} }
func golden(i int) []byte { return frametest.Golden[i].Bytes() }

// Packet is what a test compares of a decoded packet.
type Packet struct {
	Type       frame.Type
	Seq        uint32      // data
	Values     [][]float64 // data: per sample instant, per channel
	Names      []string    // info: channel names
	SampleType string      // info and data
	Text       string      // log, reply
	OK         bool        // reply
}

// Summarize reduces p to what the table compares.
func Summarize(p *frame.Packet) Packet {
	s := Packet{Type: p.Type}
	switch p.Type {
	case frame.TypeData:
		f := &p.Frame
		s.Seq, s.SampleType = f.Seq, f.SampleType.String()
		for i := 0; i < int(f.Count); i++ {
			row := make([]float64, f.Channels)
			for c := range row {
				row[c] = f.Float(i, c)
			}
			s.Values = append(s.Values, row)
		}
	case frame.TypeInfo:
		s.SampleType = p.Info.SampleType.String()
		for _, c := range p.Info.ChannelInfo {
			s.Names = append(s.Names, c.Name)
		}
	case frame.TypeLog:
		s.Text = string(p.Text)
	case frame.TypeReply:
		s.Text, s.OK = string(p.Text), p.Status == frame.ReplyOK
	}
	return s
}

// Case is one message (Msg) decoded after the messages in Before on the
// same connection, by a decoder for Input ("auto", "v1", "text", "json").
// A good case lists the packets Msg yields (Want); a bad one the refusal:
// Reason (the ingest.MessageError label), Code (the close code) and a
// piece of the message (Says).
type Case struct {
	Name   string
	Input  string
	Before []Msg
	Msg    Msg
	Want   []Packet
	Reason string
	Code   int
	Says   string
}

// Bad reports whether the case expects a refusal.
func (c *Case) Bad() bool { return c.Reason != "" }

func info(st string, names ...string) Packet {
	return Packet{Type: frame.TypeInfo, SampleType: st, Names: names}
}

func data(seq uint32, st string, rows ...[]float64) Packet {
	return Packet{Type: frame.TypeData, Seq: seq, SampleType: st, Values: rows}
}

func row(v ...float64) []float64 { return v }

func logP(s string) Packet { return Packet{Type: frame.TypeLog, Text: s} }

// withCRC returns pkt with byte i set to v and the CRC fixed, so only the
// field is wrong.
func withCRC(pkt []byte, i int, v byte) []byte {
	b := append([]byte(nil), pkt...)
	b[i] = v
	n := len(b) - frame.CRCSize
	binary.LittleEndian.PutUint32(b[n:], frame.Checksum(b[:n]))
	return b
}

func flip(pkt []byte, i int) []byte {
	b := append([]byte(nil), pkt...)
	b[i] ^= 0x40
	return b
}

// Messages is the table. Never change an entry's meaning: add new ones.
var Messages = []Case{
	// v1 binary: every golden packet passes through unchanged.
	{Name: "v1 data u16", Input: "auto", Msg: Bin(golden(0)),
		Want: []Packet{data(0, "u16", row(0), row(1), row(2), row(3))}},
	{Name: "v1 data i16 two channels", Input: "v1", Msg: Bin(golden(1)),
		Want: []Packet{data(7, "i16", row(-1, 1000), row(-32768, 32767), row(0, -2))}},
	{Name: "v1 device info", Input: "auto", Msg: Bin(golden(5)), Want: []Packet{info("i16", "mic", "vbat")}},
	{Name: "v1 log", Input: "auto", Msg: Bin(golden(6)), Want: []Packet{logP("boot ok")}},
	{Name: "v1 reply", Input: "auto", Msg: Bin(golden(7)), Want: []Packet{{Type: frame.TypeReply, Text: "rate 8000", OK: true}}},
	{Name: "v1 log text after v1 data", Input: "auto", Before: []Msg{Bin(golden(0))}, Msg: Text("Connected"),
		Want: []Packet{logP("Connected")}},
	{Name: "v1 text reply after v1 data", Input: "v1", Before: []Msg{Bin(golden(0))}, Msg: Text("# ok rate 8000"),
		Want: []Packet{{Type: frame.TypeReply, Text: "rate 8000", OK: true}}},
	{Name: "text data after binary info (info does not decide)", Input: "auto", Before: []Msg{Bin(golden(5))}, Msg: Text("7"),
		Want: []Packet{info("i32", "ch0"), data(0, "i32", row(7))}},

	// text lines
	{Name: "text one value", Input: "auto", Msg: Text("1234"), Want: []Packet{info("i32", "ch0"), data(0, "i32", row(1234))}},
	{Name: "text lines, two channels, CRLF", Input: "text", Msg: Text("1,2\r\n3 4\r\n-5\t6\r\n"),
		Want: []Packet{info("i32", "ch0", "ch1"), data(0, "i32", row(1, 2), row(3, 4), row(-5, 6))}},
	{Name: "text serial plotter", Input: "auto", Msg: Text("mic:1,vbat:3300"),
		Want: []Packet{info("i32", "mic", "vbat"), data(0, "i32", row(1, 3300))}},
	{Name: "text second message continues the numbering", Input: "auto", Before: []Msg{Text("1"), Text("2")}, Msg: Text("3"),
		Want: []Packet{data(2, "i32", row(3))}},
	{Name: "text log line", Input: "auto", Msg: Text("Connected"), Want: []Packet{logP("Connected")}},
	{Name: "text reply ok", Input: "text", Msg: Text("# ok rate 8000"), Want: []Packet{{Type: frame.TypeReply, Text: "rate 8000", OK: true}}},
	{Name: "text reply err", Input: "auto", Msg: Text("# err rate 0 out of range"),
		Want: []Packet{{Type: frame.TypeReply, Text: "rate 0 out of range"}}},
	{Name: "text float switches to f32", Input: "auto", Msg: Text("1.5"),
		Want: []Packet{info("f32", "ch0"), data(0, "f32", row(1.5))}}, // one info: the first line is already float
	{Name: "text input takes JSON as a log line", Input: "text", Msg: Text(`{"value":1}`), Want: []Packet{logP(`{"value":1}`)}},

	// JSON as the tutorials' sketches send it
	{Name: "json value", Input: "auto", Msg: Text(`{"value": 1234}`), Want: []Packet{info("i32", "value"), data(0, "i32", row(1234))}},
	{Name: "json two fields in order", Input: "json", Msg: Text(`{"b": 2, "a": -1}`),
		Want: []Packet{info("i32", "b", "a"), data(0, "i32", row(2, -1))}},
	{Name: "json number in a string", Input: "auto", Msg: Text(`{"value":"1234"}`),
		Want: []Packet{info("i32", "value"), data(0, "i32", row(1234))}},
	{Name: "json string, bool and null fields are ignored", Input: "auto", Msg: Text(`{"sensor":"mic","value":12,"ok":true,"x":null}`),
		Want: []Packet{info("i32", "value"), data(0, "i32", row(12))}},
	{Name: "json array of instants", Input: "auto", Msg: Text(`[{"v":1},{"v":2},{"v":3}]`),
		Want: []Packet{info("i32", "v"), data(0, "i32", row(1), row(2), row(3))}},
	{Name: "json pretty-printed", Input: "auto", Msg: Text("\n{\n\t\"t\": 21,\n\t\"h\": 40\n}\n"),
		Want: []Packet{info("i32", "t", "h"), data(0, "i32", row(21, 40))}},
	{Name: "json field names made plotter-safe", Input: "auto", Msg: Text(`{"temp C": 21, "a:b,c": 1, "#n": 2}`),
		Want: []Packet{info("i32", "temp_C", "a_b_c", "_n"), data(0, "i32", row(21, 1, 2))}},
	{Name: "json object without numbers is a log line", Input: "auto", Msg: Text(`{"status": "connected"}`),
		Want: []Packet{logP(`{"status": "connected"}`)}},
	{Name: "json float", Input: "auto", Msg: Text(`{"t": 21.5}`),
		Want: []Packet{info("f32", "t"), data(0, "f32", row(21.5))}},

	// refused binary
	{Name: "empty binary", Input: "auto", Msg: Bin(nil), Reason: "malformed", Code: 1007, Says: "empty binary message"},
	{Name: "COBS-encoded packet", Input: "auto", Msg: Bin(frametest.Golden[0].SerialBytes()), Reason: "not_v1", Code: 1003, Says: "without COBS"},
	{Name: "text in a binary message", Input: "auto", Msg: Bin([]byte("1234,567\n")), Reason: "not_v1", Code: 1003, Says: "send text as a text message"},
	{Name: "version 2", Input: "auto", Msg: Bin(withCRC(golden(0), 0, 2)), Reason: "not_v1", Code: 1003, Says: "first byte 0x02"},
	{Name: "unknown packet type", Input: "auto", Msg: Bin(withCRC(golden(6), 1, 9)), Reason: "not_v1", Code: 1003, Says: "unknown packet type 0x09"},
	{Name: "CRC mismatch", Input: "auto", Msg: Bin(flip(golden(1), 30)), Reason: "malformed", Code: 1007, Says: "CRC-32C mismatch"},
	{Name: "truncated packet", Input: "auto", Msg: Bin(golden(1)[:20]), Reason: "malformed", Code: 1007, Says: "does not match"},
	{Name: "unknown sample type", Input: "v1", Msg: Bin(withCRC(golden(0), 21, 7)), Reason: "malformed", Code: 1007, Says: "unknown sample type"},
	{Name: "oversize binary", Input: "auto", Msg: Bin(make([]byte, frame.MaxPacketSize+1)), Reason: "too_big", Code: 1009, Says: "at most 65536"},
	{Name: "binary after text data", Input: "auto", Before: []Msg{Text("1")}, Msg: Bin(golden(0)), Reason: "wrong_kind", Code: 1003, Says: "after text data"},
	{Name: "binary on a json input", Input: "json", Msg: Bin(golden(0)), Reason: "wrong_kind", Code: 1003, Says: "json input"},

	// refused text
	{Name: "text not UTF-8", Input: "auto", Msg: Text("12\xff\xfe"), Reason: "bad_text", Code: 1007, Says: "not valid UTF-8"},
	{Name: "text with NUL", Input: "text", Msg: Text("12\x0034"), Reason: "bad_text", Code: 1007, Says: "control byte 0x00"},
	{Name: "text line too long", Input: "auto", Msg: Text(strings.Repeat("1", frame.MaxLineSize+1)), Reason: "too_big", Code: 1009, Says: "at most 4096"},
	{Name: "numbers after v1 data", Input: "auto", Before: []Msg{Bin(golden(0))}, Msg: Text("1,2"), Reason: "wrong_kind", Code: 1003, Says: "v1 connection"},
	{Name: "numbers on a v1 input", Input: "v1", Msg: Text("5"), Reason: "wrong_kind", Code: 1003, Says: "v1 connection"},

	// refused JSON
	{Name: "json nested array", Input: "auto", Msg: Text(`{"samples": [1, 2, 3]}`), Reason: "bad_json", Code: 1007, Says: `"samples" holds an object or array`},
	{Name: "json cut short", Input: "auto", Msg: Text(`{"a": 1`), Reason: "bad_json", Code: 1007, Says: "ends too early"},
	{Name: "json array of numbers", Input: "auto", Msg: Text(`[1, 2, 3]`), Reason: "bad_json", Code: 1007, Says: "must hold objects"},
	{Name: "json two values", Input: "auto", Msg: Text(`{"a": 1} {"a": 2}`), Reason: "bad_json", Code: 1007, Says: "one JSON value per message"},
	{Name: "json number out of range", Input: "auto", Msg: Text(`{"a": 1e999}`), Reason: "bad_json", Code: 1007, Says: "out of range"},
	{Name: "json syntax", Input: "auto", Msg: Text(`{"a": 1,}`), Reason: "bad_json", Code: 1007, Says: "bad JSON"},
	{Name: "json input gets plain numbers", Input: "json", Msg: Text("1234"), Reason: "bad_json", Code: 1007, Says: "must be an object"},
}
