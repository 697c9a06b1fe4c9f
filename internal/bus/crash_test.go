//go:build unix

package bus_test

import (
	"net"
	"net/http"
	"os/exec"
	"path/filepath"
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
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	b := exec.Command(bin, "serve", "--listen", addr, "--bus", n.URL(), "--bus-site", "front", "--history", "30s")
	out := &testsupport.SyncBuffer{}
	b.Stdout, b.Stderr = out, out
	if err := b.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = b.Process.Kill()
		_ = b.Wait()
		if t.Failed() {
			t.Logf("serve B said:\n%s", out.String())
		}
	})
	bURL := "http://" + addr
	testsupport.WaitFor(t, 30*time.Second, "channel serial on serve B", func() bool {
		resp, err := http.Get(bURL + "/api/channels/serial")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	var cls []*client
	for _, f := range []string{relay.FormatBinary, relay.FormatJSON, relay.FormatCSV} {
		cls = append(cls, dialClient(t, "ws://"+addr+"/ws", "serial", f, nil))
	}
	for _, cl := range cls {
		cl.read(100)
	}
	if err := b.Process.Signal(syscall.SIGKILL); err != nil {
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
