package adcsim

import (
	"context"
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wsbridge/wsbridge/internal/frame"
	"github.com/wsbridge/wsbridge/internal/frame/frametest"
	"github.com/wsbridge/wsbridge/internal/testsupport"
	"github.com/wsbridge/wsbridge/internal/vport"
)

// counterConfig is a counter device with a fixed seed.
func counterConfig(wire string, rate uint32) Config {
	cfg := DefaultConfig()
	cfg.Signal, cfg.Rate, cfg.Wire, cfg.Seed = "counter", rate, wire, 7
	return cfg
}

// rig is a device running on a real pty with a reader on the slave.
type rig struct {
	dev    *Device
	port   *vport.Port
	slave  *os.File
	cancel context.CancelFunc
	done   chan error
}

// startRig creates the pty, opens the slave (so nothing is lost before the
// reader starts) and runs the device.
func startRig(t testing.TB, cfg Config) *rig {
	t.Helper()
	dev, err := NewDevice(cfg)
	if err != nil {
		t.Fatal(err)
	}
	p, err := vport.Create("")
	if err != nil {
		t.Fatal(err)
	}
	r := &rig{dev: dev, port: p, slave: testsupport.OpenSlave(t, p.Name()), done: make(chan error, 1)}
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	go func() { r.done <- dev.Run(ctx, p) }()
	t.Cleanup(func() { r.stop(t); p.Close() })
	return r
}

// stop ends Run and checks it returned nil.
func (r *rig) stop(t testing.TB) {
	t.Helper()
	r.cancel()
	select {
	case err, ok := <-r.done:
		if ok && err != nil {
			t.Errorf("Run: %v", err)
		}
		if ok {
			close(r.done)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
}

// recorder decodes a frames-wire stream and keeps copies of every packet
// and every sequence event other than in order (the decoder hands frames
// on as read; the recorder follows their seqs as a receiver does).
type recorder struct {
	mu      sync.Mutex
	dec     *frame.Decoder
	got     frametest.Collector
	arrival []time.Time // per packet
}

func newRecorder() *recorder {
	r := &recorder{}
	r.dec = frame.NewDecoder(func(p *frame.Packet) {
		r.got.Packet(p)
		r.arrival = append(r.arrival, time.Now())
	})
	return r
}

// seqEvents is how many sequence events other than in order were seen.
func (r *recorder) seqEvents() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.got.Events)
}

// loss is the gaps seen and the frames missing in them.
func (r *recorder) loss() (gaps, lost uint64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, ev := range r.got.Events {
		if ev.Kind == frame.SeqGap {
			gaps++
			lost += uint64(ev.Lost)
		}
	}
	return gaps, lost
}

func (r *recorder) Write(b []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.dec.Write(b)
}

func (r *recorder) snapshot() ([]frame.Packet, frame.Stats) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]frame.Packet(nil), r.got.Packets...), r.dec.Stats()
}

func (r *recorder) frames() []frame.Frame {
	ps, _ := r.snapshot()
	var fs []frame.Frame
	for _, p := range ps {
		if p.Type == frame.TypeData {
			fs = append(fs, p.Frame)
		}
	}
	return fs
}

// pumper copies from a reader into w in a goroutine, counting bytes.
type pumper struct {
	n    atomic.Uint64
	done chan struct{}
}

// pump starts copying f into w until f fails.
func pump(f io.Reader, w io.Writer) *pumper {
	p := &pumper{done: make(chan struct{})}
	go func() {
		defer close(p.done)
		buf := make([]byte, 64<<10)
		for {
			n, err := f.Read(buf)
			w.Write(buf[:n])
			p.n.Add(uint64(n))
			if err != nil {
				return
			}
		}
	}()
	return p
}

// drain stops the device, waits until the reader has every byte the
// device wrote, and stops the reader.
func (r *rig) drain(t testing.TB, p *pumper) {
	t.Helper()
	r.stop(t)
	want := r.dev.Stats().Bytes
	testsupport.WaitFor(t, 10*time.Second, fmt.Sprintf("the reader to get all %d bytes", want), func() bool { return p.n.Load() >= want })
	r.slave.SetReadDeadline(time.Now())
	<-p.done
}

// checkCounterFrames asserts that frames carry the counter without a
// break from sample index first: (i + c) in the sample type, seq and
// t_dev_us matching.
func checkCounterFrames(t *testing.T, frames []frame.Frame, first uint64) {
	t.Helper()
	i := first
	for k, f := range frames {
		if k > 0 && f.Seq != frames[k-1].Seq+1 {
			t.Fatalf("frame %d: seq %d after %d", k, f.Seq, frames[k-1].Seq)
		}
		if want := i * 1_000_000 / uint64(f.Rate); f.TimeUS != want {
			t.Fatalf("frame seq %d: t_dev_us %d, want %d", f.Seq, f.TimeUS, want)
		}
		for j := 0; j < int(f.Count); j++ {
			for c := 0; c < int(f.Channels); c++ {
				if got, want := f.Int(j, c), counterValue(f.SampleType, i+uint64(c)); got != want {
					t.Fatalf("frame seq %d sample %d channel %d = %d, want %d", f.Seq, j, c, got, want)
				}
			}
			i++
		}
	}
}

// counterValue is the counter definition of docs/sim.md, written out
// independently of the generator.
func counterValue(st frame.SampleType, v uint64) int64 {
	switch st {
	case frame.U16:
		return int64(uint16(v))
	case frame.I16:
		return int64(int16(v))
	case frame.I32:
		return int64(int32(v))
	}
	return int64(float32(float64(v % (1 << 24))))
}

// checkGaps asserts that the gaps the decoder reported are exactly the
// ranges the device says it did not send, up to the last frame received
// (ranges before the first and after the last frame received cannot show
// as gaps), and returns how many frames that is.
func checkGaps(t *testing.T, rec *recorder, ds Stats) uint64 {
	t.Helper()
	fs := rec.frames()
	if len(fs) == 0 {
		t.Fatal("no frames received")
	}
	first, last := fs[0].Seq, fs[len(fs)-1].Seq
	var want []frame.SeqEvent
	var lost uint64
	for _, g := range ds.Gaps {
		if g.To < first { // before the first frame received: no gap event
			continue
		}
		if g.From > last {
			break
		}
		if n := len(want); n > 0 && want[n-1].To+1 == g.From {
			want[n-1].To = g.To
		} else {
			want = append(want, frame.SeqEvent{Kind: frame.SeqGap, From: g.From, To: g.To})
		}
		lost += uint64(g.To - g.From + 1)
	}
	rec.mu.Lock()
	var got []frame.SeqEvent
	for _, ev := range rec.got.Events {
		got = append(got, frame.SeqEvent{Kind: ev.Kind, From: ev.From, To: ev.To})
	}
	rec.mu.Unlock()
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("decoder gaps %v\ndevice gaps  %v (all: %+v)", got, want, ds.Gaps)
	}
	return lost
}

func itoa(i int) string { return fmt.Sprint(i) }
