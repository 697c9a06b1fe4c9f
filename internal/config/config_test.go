package config_test

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"

	"github.com/wsbridge/wsbridge/internal/config"
)

type opts struct {
	Listen  string
	History time.Duration
	Origins []string
	Cmds    bool
	Secret  string
}

func newFlags(o *opts) *pflag.FlagSet {
	fs := pflag.NewFlagSet("serve", pflag.ContinueOnError)
	fs.StringVar(&o.Listen, "listen", "127.0.0.1:8080", "")
	fs.DurationVar(&o.History, "history", 30*time.Second, "")
	fs.StringSliceVar(&o.Origins, "allow-origin", nil, "")
	fs.BoolVar(&o.Cmds, "allow-commands", false, "")
	fs.StringVar(&o.Secret, "secret", "", "")
	return fs
}

func all(string) bool { return true }

func TestPrecedence(t *testing.T) {
	var o opts
	fs := newFlags(&o)
	if err := fs.Parse([]string{"--history", "5s"}); err != nil {
		t.Fatal(err)
	}
	file := "listen: 0.0.0.0:9000\nhistory: 1m\nallow-origin: [a.example, b.example]\nallow_commands: true\n"
	src := config.Sources{File: strings.NewReader(file), FileName: "serve.yaml", Prefix: "WSBRIDGE_",
		Env: []string{"WSBRIDGE_LISTEN=127.0.0.1:7000", "OTHER=1", "WSBRIDGE_ALLOW_ORIGIN=c.example,d.example"}}
	if _, err := config.Apply(fs, src, all); err != nil {
		t.Fatal(err)
	}
	want := opts{Listen: "127.0.0.1:7000", History: 5 * time.Second, Origins: []string{"c.example", "d.example"}, Cmds: true}
	if o.Listen != want.Listen || o.History != want.History || strings.Join(o.Origins, ",") != "c.example,d.example" || !o.Cmds {
		t.Fatalf("got %+v, want %+v", o, want)
	}
}

func TestFlagSliceKeepsCommandLine(t *testing.T) {
	var o opts
	fs := newFlags(&o)
	_ = fs.Parse([]string{"--allow-origin", "x.example", "--allow-origin", "y.example"})
	src := config.Sources{File: strings.NewReader("allow-origin: [a.example]\n"), FileName: "f.yaml"}
	if _, err := config.Apply(fs, src, all); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(o.Origins, ","); got != "x.example,y.example" {
		t.Fatalf("origins %q", got)
	}
}

func TestErrorsNameTheField(t *testing.T) {
	cases := []struct {
		file string
		env  []string
		want string
	}{
		{"listen: x\nhistroy: 1m\n", nil, `serve.yaml line 2: unknown key "histroy" (did you mean "history"?)`},
		{"history: soon\n", nil, `serve.yaml line 1: key "history": "soon": want a duration such as 500ms, 30s or 2m`},
		{"allow-commands: maybe\n", nil, `serve.yaml line 1: key "allow-commands": "maybe": want true or false`},
		{"signal: saw\n", nil, `serve.yaml line 1: unknown key "signal" (did you mean "sim-signal"?)`},
		{"", []string{"WSBRIDGE_SIM_RATE=-5"}, `WSBRIDGE_SIM_RATE="-5": want a whole number from 0 to 4294967295`},
		{"- a\n- b\n", nil, "serve.yaml: want a mapping of setting names to values"},
		{"listen: [a, b]\n", nil, `key "listen": want one value, got 2`},
		{"secret: x\n", nil, `unknown key "secret"`},
		{"", []string{"WSBRIDGE_HISTORY=forever"}, `WSBRIDGE_HISTORY="forever"`},
		{"listen: :8080\n  bad indent: [\n", nil, "serve.yaml: yaml:"},
	}
	for _, c := range cases {
		var o opts
		fs := newFlags(&o)
		fs.String("sim-signal", "sine", "")
		fs.Uint32("sim-rate", 16000, "")
		src := config.Sources{File: strings.NewReader(c.file), FileName: "serve.yaml", Env: c.env, Prefix: "WSBRIDGE_"}
		_, err := config.Apply(fs, src, func(n string) bool { return n != "secret" })
		if err == nil || !strings.Contains(err.Error(), c.want) || !errors.Is(err, config.ErrInvalid) {
			t.Errorf("file %q env %v: err %v, want it to contain %q", c.file, c.env, err, c.want)
		}
	}
}

func TestEmptyFileIsFine(t *testing.T) {
	var o opts
	fs := newFlags(&o)
	if _, err := config.Apply(fs, config.Sources{File: strings.NewReader(""), FileName: "e.yaml"}, all); err != nil {
		t.Fatal(err)
	}
	if o.Listen != "127.0.0.1:8080" {
		t.Fatalf("listen %q", o.Listen)
	}
}

func TestDumpRoundTrips(t *testing.T) {
	var o opts
	fs := newFlags(&o)
	_ = fs.Parse([]string{"--listen", "0.0.0.0:1", "--allow-origin", "a,b", "--secret", "hunter2"})
	var buf bytes.Buffer
	if err := config.Dump(&buf, fs, all, func(n string) bool { return n == "secret" }); err != nil {
		t.Fatal(err)
	}
	want := "allow-commands: false\nallow-origin:\n  - a\n  - b\nhistory: 30s\nlisten: 0.0.0.0:1\nsecret: <set>\n"
	if buf.String() != want {
		t.Fatalf("dump:\n%s\nwant:\n%s", buf.String(), want)
	}
	var o2 opts
	fs2 := newFlags(&o2)
	if _, err := config.Apply(fs2, config.Sources{File: &buf, FileName: "dump.yaml"}, all); err != nil {
		t.Fatal(err)
	}
	if o2.Listen != o.Listen || strings.Join(o2.Origins, ",") != "a,b" {
		t.Fatalf("round trip %+v", o2)
	}
}

// The CLI applies config to a FlagSet merged from the command's flags with
// AddFlagSet; flags given on the command line must still win there.
func TestPrecedenceOnMergedFlagSet(t *testing.T) {
	var o opts
	parsed := newFlags(&o)
	if err := parsed.Parse([]string{"--listen", "0.0.0.0:9000"}); err != nil {
		t.Fatal(err)
	}
	merged := pflag.NewFlagSet("merged", pflag.ContinueOnError)
	merged.AddFlagSet(parsed)
	src := config.Sources{File: strings.NewReader("listen: 127.0.0.1:1\nhistory: 1m\n"), FileName: "f.yaml"}
	if _, err := config.Apply(merged, src, all); err != nil {
		t.Fatal(err)
	}
	if o.Listen != "0.0.0.0:9000" || o.History != time.Minute {
		t.Fatalf("listen %q history %v: the flag must win, the file must apply", o.Listen, o.History)
	}
}

// TestOriginsSayWhereEachValueCameFrom: a value from the file names its
// line, one from the environment its variable; command-line flags are
// not listed (their errors name the flag already).
func TestOriginsSayWhereEachValueCameFrom(t *testing.T) {
	var o opts
	fs := newFlags(&o)
	if err := fs.Parse([]string{"--listen", "127.0.0.1:1"}); err != nil {
		t.Fatal(err)
	}
	src := config.Sources{File: strings.NewReader("listen: 0.0.0.0:2\n\nhistory: 1m\n"), FileName: "serve.yaml",
		Env: []string{"WSBRIDGE_ALLOW_COMMANDS=true"}, Prefix: "WSBRIDGE_"}
	got, err := config.Apply(fs, src, all)
	if err != nil {
		t.Fatal(err)
	}
	want := config.Origins{"history": "serve.yaml line 3", "allow-commands": "WSBRIDGE_ALLOW_COMMANDS"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("origins %v, want %v", got, want)
	}
}
