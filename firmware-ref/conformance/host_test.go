package conformance

import (
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/wsbridge/wsbridge/internal/testenv"
)

// crcModes are the WSB_CRC_MODE values: bitwise, 16-entry, 256-entry table.
var crcModes = []int{0, 1, 2}

var (
	buildDir  string
	buildMu   sync.Mutex
	buildErrs = map[int]error{}
	built     = map[int]string{}
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "wsb-conformance-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "failed to create build dir:", err)
		os.Exit(1)
	}
	buildDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// hostBinary compiles testdata/wsb_host.c with the given CRC mode (once per
// test binary) and returns its path. It skips the test if gcc is missing.
func hostBinary(t testing.TB, mode int) string {
	t.Helper()
	testenv.Need(t, "gcc", "gcc") // before the lock: a skip must not hold it
	buildMu.Lock()
	defer buildMu.Unlock()
	if p, ok := built[mode]; ok {
		return p
	}
	if err := buildErrs[mode]; err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(buildDir, fmt.Sprintf("wsb_host_crc%d", mode))
	if err := compile(t, "gcc", "-std=c99", "-Wall", "-Wextra", "-Werror", "-pedantic", "-O2",
		fmt.Sprintf("-DWSB_CRC_MODE=%d", mode), "-I", "..", "-o", out, filepath.Join("testdata", "wsb_host.c")); err != nil {
		buildErrs[mode] = fmt.Errorf("failed to compile wsb_host.c (WSB_CRC_MODE=%d): %w", mode, err)
		t.Fatal(buildErrs[mode])
	}
	built[mode] = out
	return out
}

// runHost feeds one command per line to the host program built for mode and
// returns one result line per command.
func runHost(t testing.TB, mode int, cmds []string) []string {
	t.Helper()
	return runLines(t, hostBinary(t, mode), cmds)
}

// hx is the host program's hex form of b: "-" when empty.
func hx(b []byte) string {
	if len(b) == 0 {
		return "-"
	}
	return hex.EncodeToString(b)
}

// field returns field i of a result line and fails if it is missing.
func field(t testing.TB, line string, i int) string {
	t.Helper()
	f := strings.Fields(line)
	if i >= len(f) {
		t.Fatalf("result line %q has no field %d", line, i)
	}
	return f[i]
}

// unhx decodes a host hex field ("-" = empty).
func unhx(t testing.TB, s string) []byte {
	t.Helper()
	if s == "-" {
		return nil
	}
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatalf("bad hex from wsb_host: %v", err)
	}
	return b
}
