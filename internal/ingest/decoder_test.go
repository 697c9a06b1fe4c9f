package ingest_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/wsbridge/wsbridge/internal/frame"
	"github.com/wsbridge/wsbridge/internal/ingest"
	"github.com/wsbridge/wsbridge/internal/ingest/ingesttest"
)

var sentinels = map[string]error{
	"not_v1": ingest.ErrNotV1, "wrong_kind": ingest.ErrWrongKind, "malformed": ingest.ErrMalformed,
	"bad_text": ingest.ErrBadText, "bad_json": ingest.ErrBadJSON, "too_big": ingest.ErrTooBig,
}

// fixedClock ticks 10 ms per call, so text frames get stable timestamps.
func fixedClock() func() time.Time {
	t := time.Unix(1700000000, 0)
	return func() time.Time { t = t.Add(10 * time.Millisecond); return t }
}

func newDecoder(t *testing.T, input string) *ingest.Decoder {
	t.Helper()
	d, err := ingest.NewDecoder(ingest.Options{Input: input, Now: fixedClock()})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// TestMessages runs the shared table: every good message yields exactly
// its packets (valid v1 packets), every bad one the refusal it names,
// with nothing emitted.
func TestMessages(t *testing.T) {
	for _, c := range ingesttest.Messages {
		t.Run(c.Name, func(t *testing.T) {
			d := newDecoder(t, c.Input)
			for i, m := range c.Before {
				if err := d.Decode(m.Binary, m.Data, func(*frame.Packet) {}); err != nil {
					t.Fatalf("message %d before the case: %v", i, err)
				}
			}
			var got []ingesttest.Packet
			err := d.Decode(c.Msg.Binary, c.Msg.Data, func(p *frame.Packet) {
				var again frame.Packet
				if perr := frame.Parse(&again, p.Raw); perr != nil {
					t.Errorf("emitted a packet that does not parse: %v", perr)
				}
				got = append(got, ingesttest.Summarize(p))
			})
			if !c.Bad() {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				if !reflect.DeepEqual(got, c.Want) {
					t.Fatalf("packets\n got %+v\nwant %+v", got, c.Want)
				}
				return
			}
			checkRefusal(t, err, &c)
			if len(got) != 0 {
				t.Fatalf("a refused message emitted %d packets", len(got))
			}
			if s := d.Stats(); s.Refused != 1 {
				t.Fatalf("stats %+v: want 1 refused", s)
			}
		})
	}
}

func checkRefusal(t *testing.T, err error, c *ingesttest.Case) {
	t.Helper()
	var me *ingest.MessageError
	if !errors.As(err, &me) {
		t.Fatalf("error %v (%T): want a *MessageError", err, err)
	}
	if me.Reason != c.Reason || int(me.Code) != c.Code || !errors.Is(err, sentinels[c.Reason]) {
		t.Fatalf("refused with %s/%d (%v), want %s/%d", me.Reason, me.Code, me.Err, c.Reason, c.Code)
	}
	if !strings.Contains(me.Msg, c.Says) || strings.Contains(me.Msg, "\n") {
		t.Fatalf("message %q: want one line saying %q", me.Msg, c.Says)
	}
	if r := me.CloseReason(); len(r) > ingest.MaxCloseReason {
		t.Fatalf("close reason of %d bytes", len(r))
	}
}

func TestIgnoredFields(t *testing.T) {
	var names []string
	d, err := ingest.NewDecoder(ingest.Options{OnIgnore: func(f string) { names = append(names, f) }})
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if err := d.Decode(false, []byte(`{"id":"board-1","v":1,"ok":true}`), func(*frame.Packet) {}); err != nil {
			t.Fatal(err)
		}
	}
	if s := d.Stats(); s.IgnoredFields != 6 || s.Frames != 3 || s.Messages != 3 {
		t.Fatalf("stats %+v: want 6 ignored fields, 3 frames, 3 messages", s)
	}
	if strings.Join(names, ",") != "id,ok" {
		t.Fatalf("OnIgnore called for %q, want once each for id and ok", names)
	}
}

func TestResetLetsTheNextConnectionChoose(t *testing.T) {
	d := newDecoder(t, "auto")
	golden := ingesttest.Messages[0].Msg
	if err := d.Decode(golden.Binary, golden.Data, func(*frame.Packet) {}); err != nil {
		t.Fatal(err)
	}
	if err := d.Decode(false, []byte("1"), func(*frame.Packet) {}); err == nil {
		t.Fatal("numbers after v1 data were accepted on the same connection")
	}
	d.Reset()
	var seqs []uint32
	for _, m := range []string{"1", "2"} {
		if err := d.Decode(false, []byte(m), func(p *frame.Packet) {
			if p.Type == frame.TypeData {
				seqs = append(seqs, p.Frame.Seq)
			}
		}); err != nil {
			t.Fatalf("after Reset: %v", err)
		}
	}
	if d.Kind() != "text" || !reflect.DeepEqual(seqs, []uint32{0, 1}) {
		t.Fatalf("kind %q seqs %v: want text, 0 and 1", d.Kind(), seqs)
	}
}

func TestBadInput(t *testing.T) {
	if _, err := ingest.NewDecoder(ingest.Options{Input: "csv"}); err == nil || !strings.Contains(err.Error(), "auto, v1, text or json") {
		t.Fatalf("input csv: %v", err)
	}
}

func TestTrimReason(t *testing.T) {
	s := strings.Repeat("é", 100) // 200 bytes
	r := ingest.TrimReason(s)
	if len(r) > ingest.MaxCloseReason || len(r) < ingest.MaxCloseReason-1 || !strings.HasPrefix(s, r) {
		t.Fatalf("trimmed to %d bytes", len(r))
	}
}

// FuzzDecode: any message either yields valid packets or a refusal with a
// known reason and a one-line message; nothing panics.
func FuzzDecode(f *testing.F) {
	for _, c := range ingesttest.Messages {
		f.Add(c.Msg.Binary, c.Msg.Data)
	}
	f.Fuzz(func(t *testing.T, binary bool, msg []byte) {
		for _, input := range []string{"auto", "v1", "text", "json"} {
			d, _ := ingest.NewDecoder(ingest.Options{Input: input})
			err := d.Decode(binary, msg, func(p *frame.Packet) {
				var again frame.Packet
				if perr := frame.Parse(&again, p.Raw); perr != nil {
					t.Fatalf("input %s: emitted an invalid packet: %v", input, perr)
				}
			})
			if err == nil {
				continue
			}
			var me *ingest.MessageError
			if !errors.As(err, &me) || sentinels[me.Reason] == nil || !errors.Is(err, sentinels[me.Reason]) ||
				me.Msg == "" || strings.Contains(me.Msg, "\n") {
				t.Fatalf("input %s: refusal %#v", input, err)
			}
		}
	})
}
