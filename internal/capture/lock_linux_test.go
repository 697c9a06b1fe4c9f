package capture

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"
)

// TestSecondCaptureRefusedEvenAsRoot: two serve processes on one port
// used to both start as root (TIOCEXCL does not bind root) and each lose
// frames to the other. The device's flock makes the second one fail with
// the busy error, naming the holder, for root too; closing the first
// frees the port.
func TestSecondCaptureRefusedEvenAsRoot(t *testing.T) {
	p := newPort(t)
	_, rec := start(t, Options{Port: p.Name(), Input: InputFrames})
	rec.waitFor(t, "device up", rec.hasEvent(DeviceUp, 1))

	second, err := New(Options{Port: p.Name(), Input: InputFrames})
	if err != nil {
		t.Fatal(err)
	}
	second.list = func() ([]PortInfo, error) { return nil, nil }
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err = second.Run(ctx, newRecorder())
	comm, _ := os.ReadFile("/proc/self/comm")
	want := fmt.Sprintf("%s is busy: %s (pid %d) holds it (another wsbridge serve?); stop it first",
		p.Name(), strings.TrimSpace(string(comm)), os.Getpid())
	if !errors.Is(err, ErrBusy) || err.Error() != want {
		t.Fatalf("second capture as uid %d: %v\nwant %q", os.Geteuid(), err, want)
	}
}
