//go:build unix

package bus_test

import (
	"bufio"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/wsbridge/wsbridge/internal/bus/natstest"
	"github.com/wsbridge/wsbridge/internal/relay"
	"github.com/wsbridge/wsbridge/internal/testsupport"
)

// wsbridgeBin builds the wsbridge command once per test binary.
var wsbridgeBin = sync.OnceValues(func() (string, error) {
	return goBuild("wsbridge", "github.com/wsbridge/wsbridge/cmd/wsbridge")
})

// serveProc is a `wsbridge serve` process listening on addr.
type serveProc struct {
	cmd  *exec.Cmd
	addr string
	base string // ws://addr
}

// startServeProc starts `bin serve --listen 127.0.0.1:PORT args...` and
// waits for the line saying where it listens; it is stopped (SIGTERM) when
// the test ends, and what it printed is shown if the test failed.
func startServeProc(b testing.TB, bin string, args ...string) *serveProc {
	b.Helper()
	addr := fmt.Sprintf("127.0.0.1:%d", freePort(b))
	cmd := exec.Command(bin, append([]string{"serve", "--listen", addr}, args...)...)
	logs := &testsupport.SyncBuffer{}
	cmd.Stderr = logs
	out, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
		if b.Failed() {
			b.Logf("serve %v logged:\n%s", args, logs.String())
		}
	})
	rd := bufio.NewReader(out)
	line, err := rd.ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "wsbridge serve:") {
		b.Fatalf("serve %v did not start: %q %v", args, line, err)
	}
	go rd.WriteTo(logs)
	return &serveProc{cmd: cmd, addr: addr, base: "ws://" + addr}
}

// A serve node dies without a word (SIGKILL: no drain, no stopping
// status): its clients, in every format, resume on another node with
// the since and epoch they had and lose nothing.
func TestServeNodeCrash(t *testing.T) {
	long(t)
	bin, err := wsbridgeBin()
	if err != nil {
		t.Fatal(err)
	}
	n := natstest.RunServer(t)
	link := filepath.Join(t.TempDir(), "ttySIM")
	startDevice(t, link)
	a := startServe(t, n.URL(), "lab1", link, nil)
	b := startServeProc(t, bin, "--bus", n.URL(), "--bus-site", "front", "--history", "30s")
	addr := b.addr
	waitChannel(t, "http://"+addr, "serial")
	var cls []*client
	for _, f := range []string{relay.FormatBinary, relay.FormatJSON, relay.FormatCSV} {
		cls = append(cls, dialClient(t, "ws://"+addr+"/ws", "serial", f, nil))
	}
	for _, cl := range cls {
		cl.read(100)
	}
	if err := b.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	for _, cl := range cls {
		for cl.readOne(10*time.Second) == nil { // whatever B had sent before it died
		}
	}
	for i, cl := range cls {
		cls[i] = dialClient(t, a.WS, "serial", cl.format, cl) // resume on A
		cls[i].read(100)
		if busLoss(cls[i]) {
			t.Fatalf("%s: gaps %+v", cl.name, cls[i].gaps)
		}
	}
}
