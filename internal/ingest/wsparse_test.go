package ingest

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/wsbridge/wsbridge/internal/ingest/ingesttest"
	"github.com/wsbridge/wsbridge/internal/wsconn"
)

var cf = ingesttest.ClientFrame

func cat(frames ...[]byte) []byte { return bytes.Join(frames, nil) }

// seqBytes is n bytes that differ from one position to the next.
func seqBytes(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7 + i/251)
	}
	return b
}

// parseAll pushes pieces through a parser and lists its events as
// "op:payload" (payload quoted, or its length and a checksum when long),
// up to the first error.
func parseAll(max int, pieces [][]byte) ([]string, error) {
	p := newWSParser(max)
	var out []string
	for _, b := range pieces {
		b = bytes.Clone(b) // the parser unmasks in place
		for len(b) > 0 {
			ev, n, err := p.next(b)
			if err != nil {
				return out, err
			}
			b = b[n:]
			if ev.Op != 0 {
				out = append(out, show(ev))
			} else if len(b) != 0 {
				return out, fmt.Errorf("no event, but %d bytes left unused", len(b))
			}
		}
	}
	return out, nil
}

func show(ev wsEvent) string {
	if len(ev.Data) > 40 {
		sum := 0
		for i, c := range ev.Data {
			sum += (i + 1) * int(c)
		}
		return fmt.Sprintf("%x:%d bytes sum %d", ev.Op, len(ev.Data), sum)
	}
	return fmt.Sprintf("%x:%q", ev.Op, ev.Data)
}

// splits are the ways of cutting b that the table tries: whole, at
// every point in two, and byte by byte.
func splits(b []byte, every bool) [][][]byte {
	out := [][][]byte{{b}}
	step := 1
	if !every {
		step = len(b)/7 + 1
	}
	for i := 1; i < len(b); i += step {
		out = append(out, [][]byte{b[:i], b[i:]})
	}
	var bytewise [][]byte
	for i := range b {
		bytewise = append(bytewise, b[i:i+1])
	}
	return append(out, bytewise)
}

// TestWSParserSplits: every stream of frames yields the same messages (or
// the same refusal) however its bytes are cut into reads.
func TestWSParserSplits(t *testing.T) {
	long := seqBytes(300)   // a 16-bit length
	huge := seqBytes(70000) // a 64-bit length
	cases := []struct {
		name  string
		max   int
		in    []byte
		every bool // every split point (short inputs)
		want  []string
		code  int    // the refusal's close code; 0: none
		says  string // in its message
	}{
		{name: "binary and text", in: cat(cf(true, wsconn.OpBinary, []byte("\x01abc")), cf(true, wsconn.OpText, []byte("12,13\n"))), every: true,
			want: []string{`2:"\x01abc"`, `1:"12,13\n"`}},
		{name: "empty messages", in: cat(cf(true, wsconn.OpBinary, nil), cf(true, wsconn.OpText, nil)), every: true, want: []string{`2:""`, `1:""`}},
		{name: "fragments with control frames between", every: true,
			in: cat(cf(false, wsconn.OpText, []byte("12,")), cf(true, wsconn.OpPing, []byte("p1")), cf(false, wsconn.OpContinuation, []byte("13")),
				cf(true, wsconn.OpPong, nil), cf(false, wsconn.OpContinuation, nil), cf(true, wsconn.OpContinuation, []byte(",14\n")), cf(true, wsconn.OpBinary, []byte("x"))),
			want: []string{`9:"p1"`, `a:""`, `1:"12,13,14\n"`, `2:"x"`}},
		{name: "close", in: cf(true, wsconn.OpClose, []byte("\x03\xe8bye")), every: true, want: []string{`8:"\x03\xe8bye"`}},
		{name: "16-bit length", in: cat(cf(true, wsconn.OpBinary, long), cf(true, wsconn.OpPing, nil)), every: true,
			want: []string{show(wsEvent{wsconn.OpBinary, long}), `9:""`}},
		{name: "64-bit length", max: 1 << 17, in: cf(true, wsconn.OpBinary, huge), want: []string{show(wsEvent{wsconn.OpBinary, huge})}},
		{name: "fragmented 16-bit", in: cat(cf(false, wsconn.OpBinary, long[:200]), cf(true, wsconn.OpContinuation, long[200:])), every: true,
			want: []string{show(wsEvent{wsconn.OpBinary, long})}},

		{name: "unmasked", in: cat(cf(true, wsconn.OpBinary, []byte("a")), []byte{0x82, 0x01, 'b'}), every: true,
			want: []string{`2:"a"`}, code: 1002, says: "unmasked frame"},
		{name: "reserved bit", in: []byte{0xc2, 0x80, 1, 2, 3, 4}, every: true, code: 1002, says: "reserved bits"},
		{name: "unknown opcode", in: cf(true, 0x3, []byte("x")), every: true, code: 1002, says: "unknown opcode 0x3"},
		{name: "control opcode 0xb", in: cf(true, 0xb, nil), every: true, code: 1002, says: "unknown opcode 0xb"},
		{name: "continuation first", in: cf(true, wsconn.OpContinuation, []byte("x")), every: true, code: 1002, says: "continuation frame without"},
		{name: "data inside a fragmented message", in: cat(cf(false, wsconn.OpText, []byte("1")), cf(true, wsconn.OpText, []byte("2"))), every: true,
			code: 1002, says: "before the final frame"},
		{name: "fragmented ping", in: cf(false, wsconn.OpPing, nil), every: true, code: 1002, says: "fragmented control frame"},
		{name: "long ping", in: cf(true, wsconn.OpPing, seqBytes(126)), every: true, code: 1002, says: "control frame of 126 bytes"},
		{name: "length high bit", in: []byte{0x82, 0xff, 0x80, 0, 0, 0, 0, 0, 0, 1, 1, 2, 3, 4}, every: true, code: 1002, says: "most significant bit"},
		{name: "too big", max: 100, in: cf(true, wsconn.OpBinary, seqBytes(101)), every: true, code: 1009, says: "message over 100 bytes"},
		{name: "too big in fragments", max: 100, in: cat(cf(false, wsconn.OpBinary, seqBytes(60)), cf(true, wsconn.OpContinuation, seqBytes(41))),
			every: true, code: 1009, says: "message over 100 bytes"},
		{name: "at the limit", max: 100, in: cat(cf(false, wsconn.OpBinary, seqBytes(60)), cf(true, wsconn.OpContinuation, seqBytes(40))), every: true,
			want: []string{show(wsEvent{wsconn.OpBinary, append(seqBytes(60), seqBytes(40)...)})}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.max == 0 {
				c.max = MaxMessage
			}
			for _, pieces := range splits(c.in, c.every) {
				got, err := parseAll(c.max, pieces)
				at := fmt.Sprintf("%d pieces, first %d bytes", len(pieces), len(pieces[0]))
				if strings.Join(got, " ") != strings.Join(c.want, " ") {
					t.Fatalf("%s: events %q, want %q", at, got, c.want)
				}
				var me *MessageError
				switch {
				case c.code == 0 && err != nil:
					t.Fatalf("%s: %v", at, err)
				case c.code != 0 && (!errors.As(err, &me) || int(me.Code) != c.code || !strings.Contains(me.Msg, c.says)):
					t.Fatalf("%s: error %v, want code %d saying %q", at, err, c.code, c.says)
				}
			}
		})
	}
}

// TestWSParserNoCopy: a message whole in one read is returned in place.
func TestWSParserNoCopy(t *testing.T) {
	b := cf(true, wsconn.OpBinary, []byte("hello"))
	ev, n, err := newWSParser(MaxMessage).next(b)
	if err != nil || n != len(b) || string(ev.Data) != "hello" || &ev.Data[0] != &b[len(b)-5] {
		t.Fatalf("event %q, %d bytes, %v: want hello, in place", ev.Data, n, err)
	}
}

func TestParseClose(t *testing.T) {
	for _, c := range []struct {
		in     string
		code   uint16
		reason string
		err    int
	}{
		{"", 1005, "", 0}, {"\x03\xe8", 1000, "", 0}, {"\x0f\xa0done", 4000, "done", 0},
		{"\x03", 0, "", 1002}, {"\x03\xed", 0, "", 1002}, {"\x03\xee", 0, "", 1002}, {"\x03\xe7", 0, "", 1002},
		{"\x13\x88", 0, "", 1002}, {"\x03\xe8\xff", 0, "", 1007},
	} {
		code, reason, me := parseClose([]byte(c.in))
		if code != c.code || reason != c.reason || (me == nil) != (c.err == 0) || me != nil && int(me.Code) != c.err {
			t.Errorf("%q: %d %q %v, want %d %q, error code %d", c.in, code, reason, me, c.code, c.reason, c.err)
		}
	}
}
