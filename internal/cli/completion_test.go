package cli

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/wsbridge/wsbridge/internal/capture"
)

// complete runs what a shell runs on TAB after args (cobra's __complete)
// and returns the candidates, "value" or "value\tdescription".
func complete(t *testing.T, args ...string) []string {
	t.Helper()
	var out, errb bytes.Buffer
	err := Execute(context.Background(), append([]string{"__complete"}, args...), Streams{In: strings.NewReader(""), Out: &out, Err: &errb})
	if err != nil {
		t.Fatalf("__complete %v: %v %s", args, err, errb.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	return lines[:len(lines)-1] // the last line is the directive, ":4"
}

// checkArgs are what a command's --check needs besides the flag tested.
var checkArgs = map[string][]string{
	"serve":  {"--sim", "--listen", "127.0.0.1:0"},
	"sim":    nil,
	"sink":   {"--url", "ws://127.0.0.1:1/ws"},
	"record": {"--url", "ws://127.0.0.1:1/ws"},
}

// TestCompletedValuesAreAccepted: every value a shell offers for a flag
// is one the command accepts (its --check passes), and the flags users
// asked for complete.
func TestCompletedValuesAreAccepted(t *testing.T) {
	for _, want := range [][2]string{{"serve", "sim-signal"}, {"sink", "when-full"}, {"sink", "format"},
		{"serve", "slow-client"}, {"serve", "log-level"}, {"sim", "signal"}, {"record", "format"}} {
		if len(complete(t, want[0], "--"+want[1], "")) < 2 {
			t.Errorf("%s --%s does not complete", want[0], want[1])
		}
	}
	for cmd, flags := range choices {
		if cmd == "" {
			cmd = "serve"
		}
		for name := range merge(choices[""], flags) {
			for _, c := range complete(t, cmd, "--"+name, "") {
				value, _, _ := strings.Cut(c, "\t")
				if strings.HasSuffix(value, ":") { // wav: takes a file name next
					continue
				}
				args := append([]string{cmd, "--" + name, value, "--check"}, checkArgs[cmd]...)
				switch cmd {
				case "record":
					args = append(args, "--out", t.TempDir())
				case "sink":
					args = append(args, "--virtual", t.TempDir()+"/ttyTEST")
				}
				var out, errb bytes.Buffer
				if err := Execute(context.Background(), args, Streams{In: strings.NewReader(""), Out: &out, Err: &errb}); err != nil {
					t.Errorf("%s --%s %s (completed): %v", cmd, name, value, err)
				}
			}
		}
	}
}

// TestPortCompletesFromThePortsPresent: --port offers the ports present,
// likely ESP32 boards first, described as wsbridge ports describes them;
// --match offers their USB identities.
func TestPortCompletesFromThePortsPresent(t *testing.T) {
	defer func(f func() ([]capture.PortInfo, error)) { listPorts = f }(listPorts)
	listPorts = func() ([]capture.PortInfo, error) {
		return []capture.PortInfo{
			{Path: "/dev/ttyS0"},
			{Path: "/dev/ttyUSB0", USB: true, VID: "10c4", PID: "ea60", Serial: "0001", Chip: "CP210x", ESP32: true, Product: "CP2102"},
		}, nil
	}
	got := strings.Join(complete(t, "serve", "--port", ""), "\n")
	if want := "/dev/ttyUSB0\tESP32? CP210x 10c4:ea60, CP2102, serial 0001\n/dev/ttyS0"; got != want {
		t.Errorf("serve --port completes\n%s\nwant\n%s", got, want)
	}
	if got := complete(t, "serve", "--match", ""); len(got) != 1 || !strings.HasPrefix(got[0], "10c4:ea60:0001\t") {
		t.Errorf("serve --match completes %q", got)
	}
	if got := complete(t, "sink", "--port", ""); len(got) != 2 {
		t.Errorf("sink --port completes %q", got)
	}
}
