package serve

import (
	"context"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/wsbridge/wsbridge/internal/sink"
	"github.com/wsbridge/wsbridge/internal/testenv"
	"github.com/wsbridge/wsbridge/internal/testsupport"
	"github.com/wsbridge/wsbridge/internal/wifisim"
)

// TestWiFiBoardToR: a simulated Wi-Fi board (sim --publish's code, a 16
// kHz i16 counter) publishes through a fault proxy that cuts its
// connection every 700 ms; serve carries it on its network channel
// garden; `wsbridge sink --virtual` writes it into a pty; R reads 3 s of
// it with the base R recipe. R must get every sample, in order, exactly
// once, and the sink must have written no gap line.
func TestWiFiBoardToR(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test with R: skipped with -short")
	}
	testenv.Need(t, "Rscript", "r-base-core") // before starting anything
	garden, err := ParseDevice("garden=network:token=token-garden")
	if err != nil {
		t.Fatal(err)
	}
	so := DefaultOptions()
	so.Devices, so.Relay.Token = []Device{garden}, "sub-token"
	s := startServeRaw(t, so)
	base := s.WS[:strings.Index(s.WS, "/ws")]
	o := wifisim.DefaultOptions()
	o.URL, o.Token = base+"/pub/garden", "token-garden"
	o.Device.Signal, o.Device.Rate, o.Device.FrameSamples = "counter", 16000, 256
	o.Device.MaxLag = time.Minute // a loaded machine must not make the simulated ADC drop frames: the ring is under test
	o.Faults.CutEvery = 700 * time.Millisecond
	b, _ := runBoard(t, o)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	defer func() { cancel(); wg.Wait() }()

	ko := sink.DefaultOptions()
	ko.URL, ko.Token = base+"/ws/garden", "sub-token"
	ko.Virtual = filepath.Join(t.TempDir(), "ttyGARDEN")
	ko.Out, ko.Log = &testsupport.SyncBuffer{}, zerolog.Nop()
	ready := make(chan sink.PortInfo, 1)
	ko.Ready = func(pi sink.PortInfo) { ready <- pi }
	sinkErr := make(chan error, 1)
	wg.Go(func() { sinkErr <- sink.Run(ctx, ko) })
	var link string
	select {
	case pi := <-ready:
		link = pi.Link
	case err := <-sinkErr:
		t.Fatalf("sink: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("sink did not start")
	}

	lines := testsupport.ReadLinesR(t, link, 48001, 30*time.Second)[1:] // the first line may be cut: R opened mid-stream
	var prev int64
	n := 0
	for i, l := range lines {
		if strings.HasPrefix(l, "#") {
			t.Fatalf("line %d: %q: the sink wrote a gap or restart line", i, l)
		}
		v, err := strconv.ParseInt(l, 10, 64)
		if err != nil {
			t.Fatalf("line %d: %q is not a sample", i, l)
		}
		if i > 0 && v != int64(int16(prev+1)) {
			t.Fatalf("line %d: %d after %d: a sample lost, repeated or reordered", i, v, prev)
		}
		prev = v
		n++
	}
	st := b.Stats()
	if n < 48000 || st.Proxy.Cut < 3 {
		t.Fatalf("R read %d samples across %d cuts; want 48000 across at least 3", n, st.Proxy.Cut)
	}
	t.Logf("R read %d samples in order, exactly once, across %d connection cuts of about 0.5 s each (the library's reconnect interval)", n, st.Proxy.Cut)
}
