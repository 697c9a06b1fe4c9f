package wsproto

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzParseClientMessage feeds arbitrary client text to the parser: it must
// never panic, every refusal must be a *ParseError with a known code whose
// Reply encodes as JSON, and every accepted command must be one safe line
// that survives a round trip.
func FuzzParseClientMessage(f *testing.F) {
	for _, s := range []string{
		`{"type":"command","line":"rate 8000"}`, `{"type":"command","line":"info"}`,
		`{"type":"command"}`, `{"type":"command","line":""}`, `{"type":"command","line":5}`,
		`{"type":"command","line":"a\nb"}`, `{"type":"command","line":"\u0000"}`,
		`{"type":"hello"}`, `{"line":"x"}`, `{}`, `[]`, `null`, `"x"`, `{"type":null}`,
		`{"type":"command","line":"x"} {}`, `{"type":"command","line":"x"}   `, `{`, ``, "\xff\xfe",
		`{"type":"command","line":"` + strings.Repeat("a", 300) + `"}`,
		`{"type":"command","line":"\ud800"}`, `{"type":"command","line":"caf\u00e9 \t ok"}`,
		`{"type":"command","type":"hello","line":"x"}`, `{"TYPE":"command","Line":"x"}`,
	} {
		f.Add([]byte(s))
	}
	codes := map[string]bool{ErrBadJSON: true, ErrUnknownType: true, ErrBadCommand: true}
	f.Fuzz(func(t *testing.T, data []byte) {
		cmd, err := ParseClientMessage(data)
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) || !codes[pe.Code] || pe.Message == "" {
				t.Fatalf("refusal %v (%T): want a *ParseError with a known code and a message", err, err)
			}
			if _, jerr := json.Marshal(pe.Reply()); jerr != nil {
				t.Fatalf("reply does not encode: %v", jerr)
			}
			return
		}
		checkAccepted(t, cmd)
	})
}

func checkAccepted(t *testing.T, cmd Command) {
	t.Helper()
	l := cmd.Line
	if cmd.Type != TypeCommand || strings.TrimSpace(l) == "" || len(l) > MaxCommandLine || !utf8.ValidString(l) {
		t.Fatalf("accepted %+v: want a non-empty valid UTF-8 command of at most %d bytes", cmd, MaxCommandLine)
	}
	for _, r := range l {
		if r < 0x20 && r != '\t' || r == 0x7f {
			t.Fatalf("accepted a command line with control character %U: %q", r, l)
		}
	}
	b, err := json.Marshal(cmd)
	if err != nil {
		t.Fatal(err)
	}
	again, err := ParseClientMessage(b)
	if err != nil || again != cmd {
		t.Fatalf("round trip of %q: %+v, %v", b, again, err)
	}
}
