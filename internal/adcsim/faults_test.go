package adcsim

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/wsbridge/wsbridge/internal/frame"
	"github.com/wsbridge/wsbridge/internal/testsupport"
	"github.com/wsbridge/wsbridge/internal/vport"
)

// TestBootGarbageResync: the ROM-style burst comes first, has no 0x00,
// and the decoder counts exactly those bytes as noise, then decodes the
// info packet and every frame from seq 0.
func TestBootGarbageResync(t *testing.T) {
	cfg := counterConfig(WireFrames, 16000)
	cfg.BootGarbage = true
	r := startRig(t, cfg)
	raw := &bytes.Buffer{}
	rec := newRecorder()
	pumped := pump(r.slave, io.MultiWriter(raw, rec))
	testsupport.WaitFor(t, 10*time.Second, "10 frames", func() bool { return len(rec.frames()) >= 10 })
	r.drain(t, pumped)
	ds := r.dev.Stats()
	g := int(ds.GarbageBytes)
	if g < 200 || bytes.IndexByte(raw.Bytes()[:g], 0) >= 0 || raw.Bytes()[g] != 0 {
		t.Fatalf("garbage of %d bytes: want >= 200 bytes without 0x00, then 0x00: % x", g, raw.Bytes()[:min(g+1, raw.Len())])
	}
	ps, s := rec.snapshot()
	if _, lost := rec.loss(); s.NoiseBytes != ds.GarbageBytes || s.CRCErrors+s.Malformed+lost != 0 {
		t.Fatalf("decoder %+v, device sent %d garbage bytes", s, ds.GarbageBytes)
	}
	if ps[0].Type != frame.TypeInfo {
		t.Fatalf("first packet after the garbage is %v, want info", ps[0].Type)
	}
	checkCounterFrames(t, rec.frames(), 0)
}

func TestBootGarbageTextWire(t *testing.T) {
	cfg := counterConfig(WireText, 16000)
	cfg.BootGarbage = true
	r := startRig(t, cfg)
	var fs []frame.Frame
	td := frame.NewTextDecoder(func(p *frame.Packet) {
		if p.Type == frame.TypeData {
			fs = append(fs, p.Clone().Frame)
		}
	})
	pumped := pump(r.slave, td)
	testsupport.WaitFor(t, 10*time.Second, "2000 lines", func() bool { return pumped.n.Load() > 12000 })
	r.drain(t, pumped)
	if s := td.Stats(); s.NoiseBytes != r.dev.Stats().GarbageBytes || s.NoiseBytes == 0 {
		t.Fatalf("text decoder noise %d, device garbage %d", s.NoiseBytes, r.dev.Stats().GarbageBytes)
	}
	i := int64(0)
	for _, f := range fs {
		for j := 0; j < int(f.Count); j++ {
			if f.Int(j, 0) != i {
				t.Fatalf("value %d, want %d", f.Int(j, 0), i)
			}
			i++
		}
	}
	if i < 1000 {
		t.Fatalf("only %d values", i)
	}
}

// TestCorruptRate: every frame the device corrupted is missing at the
// decoder, and nothing else is: the missing seqs equal Stats.CorruptedSeqs.
func TestCorruptRate(t *testing.T) {
	cfg := counterConfig(WireFrames, 16000)
	cfg.CorruptRate, cfg.Channels = 0.0005, 2
	r := startRig(t, cfg)
	rec := newRecorder()
	pumped := pump(r.slave, rec)
	testsupport.WaitFor(t, 10*time.Second, "8 corrupted frames", func() bool { return r.dev.Stats().Corrupted >= 8 })
	r.drain(t, pumped)
	ds := r.dev.Stats()
	fs := rec.frames()
	last := fs[len(fs)-1].Seq
	var missing []uint32
	for s := uint32(0); s < fs[0].Seq; s++ { // before the first frame: no gap event
		missing = append(missing, s)
	}
	rec.mu.Lock()
	for _, ev := range rec.got.Events {
		for s := ev.From; s <= ev.To; s++ {
			missing = append(missing, s)
		}
	}
	rec.mu.Unlock()
	var want []uint32
	for _, s := range ds.CorruptedSeqs {
		if s < last {
			want = append(want, s)
		}
	}
	if len(want) < 5 {
		t.Fatalf("only %d corrupted frames; the test needs more to mean anything", len(want))
	}
	if !slices.Equal(missing, want) {
		t.Fatalf("missing at the decoder %v\ncorrupted by the device %v", missing, want)
	}
	_, s := rec.snapshot()
	_, lost := rec.loss()
	if lost != uint64(len(want))-uint64(fs[0].Seq) || s.NoiseBytes == 0 || uint64(len(ds.CorruptedSeqs)) != ds.Corrupted {
		t.Fatalf("decoder %+v, lost %d, device %+v", s, lost, ds)
	}
	t.Logf("%d bytes flipped, %d frames corrupted, decoder: %d lost, %d crc errors, %d noise bytes",
		ds.CorruptedBytes, ds.Corrupted, lost, s.CRCErrors, s.NoiseBytes)
}

// TestUnplug runs Serve with a link: the link disappears and comes back,
// the reader reopens it, and the seq gaps are exactly the frames the device
// generated while unplugged.
func TestUnplug(t *testing.T) {
	link := filepath.Join(t.TempDir(), "ttySIM")
	cfg := counterConfig(WireFrames, 16000)
	cfg.UnplugEvery, cfg.UnplugPause = 250*time.Millisecond, 150*time.Millisecond
	dev, err := NewDevice(cfg)
	if err != nil {
		t.Fatal(err)
	}
	out := &testsupport.SyncBuffer{}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() {
		served <- serveDevice(ctx, dev, &Options{Config: cfg, Link: link, JSON: true, Out: out})
	}()
	rec := newRecorder()
	var infos int
	for attach := 0; attach < 3; attach++ {
		readUntilHangup(t, link, rec)
		infos++
	}
	cancel()
	if err := <-served; err != nil {
		t.Fatalf("Serve: %v", err)
	}
	if _, err := os.Lstat(link); !os.IsNotExist(err) {
		t.Fatalf("link still there after Serve returned: %v", err)
	}
	checkUnplugs(t, rec, dev.Stats(), out.String())
}

func checkUnplugs(t *testing.T, rec *recorder, ds Stats, announced string) {
	t.Helper()
	ps, s := rec.snapshot()
	lost := checkGaps(t, rec, ds)
	gaps, seen := rec.loss()
	if ds.Unplugs < 2 || ds.Detached == 0 || seen != lost || gaps < 2 || s.NoiseBytes != 0 || s.CRCErrors != 0 {
		t.Fatalf("decoder %+v, %d gaps of %d frames\ndevice %+v", s, gaps, seen, ds)
	}
	for _, g := range ds.Gaps {
		if g.Reason != GapDetached {
			t.Fatalf("gap %+v: only unplugs should lose frames here", g)
		}
	}
	// Every attach starts with an info packet, then the counter continues
	// with the samples of the missing frames skipped.
	for k := 1; k < len(ps); k++ {
		if ps[k].Type == frame.TypeData && ps[k-1].Type == frame.TypeData && ps[k].Frame.Seq != ps[k-1].Frame.Seq+1 {
			t.Fatalf("seq %d follows seq %d without an info packet between", ps[k].Frame.Seq, ps[k-1].Frame.Seq)
		}
		if ps[k].Type == frame.TypeData {
			f := &ps[k].Frame
			if got, want := f.Int(0, 0), int64(int16(uint64(f.Seq)*uint64(f.Count))); got != want {
				t.Fatalf("seq %d starts with %d, want %d", f.Seq, got, want)
			}
		}
	}
	if n := bytes.Count([]byte(announced), []byte(`{"pty":"/dev/pts/`)); uint64(n) != ds.Unplugs+1 && uint64(n) != ds.Unplugs {
		t.Fatalf("announced %d ports for %d unplugs:\n%s", n, ds.Unplugs, announced)
	}
	t.Logf("%d unplugs, %d frames detached, decoder gaps %d lost %d", ds.Unplugs, ds.Detached, gaps, seen)
}

// readUntilHangup waits for link to appear, opens it and feeds rec until
// the port goes away.
func readUntilHangup(t *testing.T, link string, rec io.Writer) {
	t.Helper()
	var f *os.File
	testsupport.WaitFor(t, 10*time.Second, "the link", func() bool {
		var err error
		f, err = os.OpenFile(link, os.O_RDWR, 0)
		return err == nil
	})
	defer f.Close()
	f.SetReadDeadline(time.Now().Add(10 * time.Second))
	buf := make([]byte, 64<<10)
	for {
		n, err := f.Read(buf)
		rec.Write(buf[:n])
		if err != nil || n == 0 {
			if errors.Is(err, os.ErrDeadlineExceeded) {
				t.Fatal("the port never went away")
			}
			return
		}
	}
}

// TestOpenInProcess: the in-process port carries a clean counter stream,
// takes commands, and Close is idempotent and ends reads.
func TestOpenInProcess(t *testing.T) {
	cfg := counterConfig(WireFrames, 16000)
	cfg.Log = zerolog.New(zerolog.NewTestWriter(t))
	p, err := Open(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	rec := newRecorder()
	pumped := pump(p, rec)
	testsupport.WaitFor(t, 10*time.Second, "20 frames", func() bool { return len(rec.frames()) >= 20 })
	if _, err := p.Write([]byte("info\n")); err != nil {
		t.Fatal(err)
	}
	if r := waitReply(t, rec, 1); string(r.Text) != "info" {
		t.Fatalf("reply %q", r.Text)
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if err := p.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	<-pumped.done
	if _, err := p.Read(make([]byte, 10)); err == nil {
		t.Fatal("Read after Close succeeded")
	}
	_, s := rec.snapshot()
	if rec.seqEvents() != 0 || s.NoiseBytes != 0 || s.CRCErrors != 0 {
		t.Fatalf("decoder %+v, seq events %v", s, rec.got.Events)
	}
	checkCounterFrames(t, rec.frames(), 0)
}

func TestOpenEndsWithContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	p, err := Open(ctx, counterConfig(WireText, 1000))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	cancel()
	p.(*Port).SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.Copy(io.Discard, p); err != nil {
		t.Fatalf("read after cancel: %v, want EOF", err)
	}
}

func TestOpenRefusesUnplug(t *testing.T) {
	cfg := counterConfig(WireFrames, 1000)
	cfg.UnplugEvery = time.Second
	_, err := Open(context.Background(), cfg)
	if err == nil || err.Error() != "unplug-every: needs a virtual serial port (wsbridge sim), not the in-process port" {
		t.Fatalf("err = %v", err)
	}
}

// TestServeStdout writes text lines to Out instead of a pty.
func TestServeStdout(t *testing.T) {
	out := &testsupport.SyncBuffer{}
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	cfg := counterConfig(WireText, 16000)
	if err := Serve(ctx, Options{Config: cfg, Stdout: true, Out: out}); err != nil {
		t.Fatal(err)
	}
	lines := bytes.Split(bytes.TrimSuffix([]byte(out.String()), []byte("\n")), []byte("\n"))
	if len(lines) < 100 || !bytes.HasPrefix(lines[0], []byte("# info ")) {
		t.Fatalf("%d lines, first %q", len(lines), lines[0])
	}
	for i, l := range lines[1:] {
		if want := itoa(int(int16(i))); string(l) != want {
			t.Fatalf("line %d: %q, want %q", i+1, l, want)
		}
	}
}

// TestUnplugWhileNobodyReads: a write blocked on a full pty does not hold
// up the unplug, and the frames cut short are counted with their exact seq
// range: a reader that takes what the pty holds afterwards gets every frame
// counted as sent, then the gap starts.
func TestUnplugWhileNobodyReads(t *testing.T) {
	cfg := counterConfig(WireFrames, 200000) // fills the pty in about 50 ms
	cfg.UnplugEvery, cfg.MaxLag = 300*time.Millisecond, time.Hour
	logs := &testsupport.SyncBuffer{}
	cfg.Log = zerolog.New(logs)
	d, err := NewDevice(cfg)
	if err != nil {
		t.Fatal(err)
	}
	p, err := vport.Create("")
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	slave := testsupport.OpenSlave(t, p.Name()) // holds what the device wrote, unread
	done := make(chan error, 1)
	go func() { done <- d.Run(context.Background(), p) }()
	select {
	case err := <-done:
		if !errors.Is(err, ErrUnplugged) {
			t.Fatalf("Run: %v, want ErrUnplugged", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the unplug never came")
	}
	rec := newRecorder()
	readAvailable(t, slave, rec)
	ds := d.Stats()
	fs := rec.frames()
	if ds.Unplugs != 1 || ds.Detached == 0 || ds.Frames != ds.Sent+ds.Dropped+ds.Detached || uint64(len(fs)) != ds.Sent {
		t.Fatalf("reader got %d frames; device %+v", len(fs), ds)
	}
	want := []Gap{{From: uint32(ds.Sent), To: uint32(ds.Frames - 1), Reason: GapDetached}}
	if !slices.Equal(ds.Gaps, want) || (len(fs) > 0 && fs[len(fs)-1].Seq+1 != want[0].From) {
		t.Fatalf("device gaps %+v, want %+v (reader's last frame %+v)", ds.Gaps, want, fs[len(fs)-1])
	}
	line := fmt.Sprintf(`"frames":%d,"from":%d,"to":%d,"message":"simulated unplug`, ds.Detached, want[0].From, want[0].To)
	if !strings.Contains(logs.String(), line) {
		t.Fatalf("log %s\nwant a line with %s", logs.String(), line)
	}
}

// readAvailable feeds w what f holds until it has been quiet for 200 ms.
func readAvailable(t *testing.T, f *os.File, w io.Writer) {
	t.Helper()
	buf := make([]byte, 64<<10)
	for range 1000 {
		f.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
		n, err := f.Read(buf)
		w.Write(buf[:n])
		if errors.Is(err, os.ErrDeadlineExceeded) {
			return
		} else if err != nil {
			t.Fatalf("read: %v", err)
		}
	}
	t.Fatal("the pty never ran dry")
}

// TestOpenCancelWhileNobodyReads: cancelling the context stops a device
// whose host never reads, and the host then reads EOF.
func TestOpenCancelWhileNobodyReads(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	p, err := Open(ctx, counterConfig(WireFrames, 16000))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	time.Sleep(50 * time.Millisecond) // the device is blocked writing its info packet
	cancel()
	select {
	case <-p.(*Port).done:
	case <-time.After(5 * time.Second):
		t.Fatal("the device did not stop on cancel")
	}
	if err := p.(*Port).Err(); err != nil {
		t.Fatalf("device error %v", err)
	}
}

// TestUnplugRebootsWithBootGarbage: with --boot-garbage every re-attach
// starts with the ROM log again, as a replugged ESP32 reboots, and the
// decoder resynchronises after each one.
func TestUnplugRebootsWithBootGarbage(t *testing.T) {
	link := filepath.Join(t.TempDir(), "ttySIM")
	cfg := counterConfig(WireFrames, 16000)
	cfg.BootGarbage = true
	cfg.UnplugEvery, cfg.UnplugPause = 250*time.Millisecond, 150*time.Millisecond
	dev, err := NewDevice(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- serveDevice(ctx, dev, &Options{Config: cfg, Link: link, Out: io.Discard}) }()
	rec := newRecorder()
	for attach := 0; attach < 3; attach++ {
		readUntilHangup(t, link, rec)
	}
	cancel()
	if err := <-served; err != nil {
		t.Fatalf("Serve: %v", err)
	}
	_, s := rec.snapshot()
	// Three attaches read, each beginning with len(romBoot) bytes of noise.
	if s.NoiseBytes != 3*uint64(len(romBoot)) || s.CRCErrors+s.Malformed != 0 || s.Frames == 0 {
		t.Fatalf("decoder %+v: want exactly 3 ROM logs (%d bytes each) of noise and clean frames", s, len(romBoot))
	}
}
