package bus_test

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wsbridge/wsbridge/internal/testsupport"
)

// binDirs are the directories of the binaries the tests built, removed
// when the tests end.
var binDirs struct {
	sync.Mutex
	dirs []string
}

// goBuild builds the command pkg as name in a directory of its own,
// removed when the tests end.
func goBuild(name, pkg string) (string, error) {
	dir, err := os.MkdirTemp("", name+"bin")
	if err != nil {
		return "", err
	}
	binDirs.Lock()
	binDirs.dirs = append(binDirs.dirs, dir)
	binDirs.Unlock()
	return testsupport.GoBuild(dir, name, pkg)
}

func TestMain(m *testing.M) {
	code := m.Run()
	for _, d := range binDirs.dirs {
		_ = os.RemoveAll(d)
	}
	os.Exit(code)
}

// natsBin builds nats-server from the module once per test binary, for
// benchmarks that run it as its own process (its CPU apart from wsbridge's).
var natsBin = sync.OnceValues(func() (string, error) {
	return goBuild("nats-server", "github.com/nats-io/nats-server/v2")
})

// natsProc is a nats-server process.
type natsProc struct {
	cmd      *exec.Cmd
	port     int
	profPort int // nats-server's pprof listener (prof_port), 0 if none
}

func freePort(b testing.TB) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// runNATSProcs starts n nats-server processes with JetStream (a cluster
// when n > 1) and returns them once each accepts connections.
func runNATSProcs(b testing.TB, n int) []*natsProc {
	bin, err := natsBin()
	if err != nil {
		b.Skip(err)
	}
	dir := b.TempDir()
	var ps []*natsProc
	var routes []string
	cports := make([]int, n)
	for i := range n {
		cports[i] = freePort(b)
		routes = append(routes, fmt.Sprintf("nats-route://127.0.0.1:%d", cports[i]))
	}
	for i := range n {
		p := &natsProc{port: freePort(b)}
		conf := fmt.Sprintf("server_name: p%d\nlisten: 127.0.0.1:%d\njetstream { store_dir: %q }\n", i, p.port, filepath.Join(dir, strconv.Itoa(i)))
		if os.Getenv("BUS_BENCH_PROF") != "" {
			p.profPort = freePort(b)
			conf += fmt.Sprintf("prof_port: %d\n", p.profPort)
		}
		if n > 1 {
			conf += fmt.Sprintf("cluster { name: bench, listen: 127.0.0.1:%d, routes: [%s] }\n", cports[i], strings.Join(routes, ", "))
		}
		cf := filepath.Join(dir, fmt.Sprintf("p%d.conf", i))
		if err := os.WriteFile(cf, []byte(conf), 0o600); err != nil {
			b.Fatal(err)
		}
		p.cmd = exec.Command(bin, "-c", cf)
		if err := p.cmd.Start(); err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { _ = p.cmd.Process.Kill(); _ = p.cmd.Wait() })
		ps = append(ps, p)
	}
	for _, p := range ps {
		testsupport.WaitFor(b, 30*time.Second, "nats-server to listen", func() bool {
			c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", p.port))
			if err == nil {
				c.Close()
			}
			return err == nil
		})
	}
	return ps
}

func natsURL(ps []*natsProc) string {
	var u []string
	for _, p := range ps {
		u = append(u, fmt.Sprintf("nats://127.0.0.1:%d", p.port))
	}
	return strings.Join(u, ",")
}

// procCPU is the CPU time the processes used so far (utime+stime).
func procCPU(ps []*natsProc) time.Duration {
	var total time.Duration
	for _, p := range ps {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p.cmd.Process.Pid))
		if err != nil {
			continue
		}
		f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+2:]))
		ut, _ := strconv.ParseInt(f[11], 10, 64) // fields 14 and 15 of stat, after pid and comm
		st, _ := strconv.ParseInt(f[12], 10, 64)
		total += time.Duration(ut+st) * 10 * time.Millisecond // USER_HZ 100 on Linux
	}
	return total
}

// profile writes a CPU profile of each nats-server over the next d to
// BUS_BENCH_PROF-pN.out (for `go tool pprof`), in the background; wait
// for it with the returned function.
func profile(b testing.TB, ps []*natsProc, d time.Duration) (wait func()) {
	prefix := os.Getenv("BUS_BENCH_PROF")
	var wg sync.WaitGroup
	for i, p := range ps {
		if prefix == "" || p.profPort == 0 {
			continue
		}
		wg.Go(func() {
			resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/debug/pprof/profile?seconds=%d", p.profPort, int(d.Seconds())))
			if err != nil {
				b.Logf("nats-server p%d profile: %v", i, err)
				return
			}
			defer resp.Body.Close()
			out, err := os.Create(fmt.Sprintf("%s-p%d.out", prefix, i))
			if err != nil {
				b.Logf("nats-server p%d profile: %v", i, err)
				return
			}
			defer out.Close()
			_, _ = io.Copy(out, resp.Body)
		})
	}
	return wg.Wait
}
