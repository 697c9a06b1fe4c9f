// Package benchenv is what the benchmark programs (bench, bench/wifi)
// learn about where they run, and share to report it: the repository's
// root, a free loopback port, the machine's load average, the median of
// repeated runs.
//
// Entry points: RepoRoot, FreePort, LoadAvg, Median.
package benchenv

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
)

// RepoRoot is the wsbridge repository the working directory is in: the
// nearest folder above it with a go.mod and bench/peers.
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for i := 0; i < 20; i++ {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			if _, err := os.Stat(filepath.Join(dir, "bench/peers")); err == nil {
				return dir, nil
			}
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			break
		}
		dir = parent
	}
	return "", fmt.Errorf("run from inside the wsbridge repository (no go.mod with bench/peers above the working directory)")
}

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func FreePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// LoadAvg is the 1-minute load average ("?" where /proc/loadavg is not).
func LoadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	return strings.Fields(string(b))[0]
}
