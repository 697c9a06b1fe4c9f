package adcsim

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"math/bits"
	"math/rand/v2"
	"os"
	"sync"
	"time"

	"github.com/wsbridge/wsbridge/internal/frame"
	"github.com/wsbridge/wsbridge/internal/sentinel"
)

const (
	flushSize   = 64 << 10               // write the output buffer once it holds this much
	minInterval = 500 * time.Microsecond // frames due closer together than this are written together
	idleWake    = time.Hour              // wake-up interval while stopped
	drainQuiet  = 100 * time.Millisecond // how long the pty must stay empty before an unplug
)

// Device is a simulated ESP32: it generates data frames of the configured
// signal in real time and writes them to a port, answers text commands read
// from the port, and injects the configured faults.
//
// The device's clock runs from the first Run: it keeps generating (and
// counting as detached) while no Run is active, so a later Run continues
// with the sequence number a real device would have reached. Run must not
// be called concurrently with itself; Stats is safe to call at any time.
type Device struct {
	cfg    Config
	st     frame.SampleType
	src    source
	text   bool       // text or plotter wire
	labels []string   // plotter wire: "label:" per channel
	rng    *rand.Rand // faults

	// Owned by the goroutine in Run.
	rate     uint32
	fs       int // sample instants per frame
	seq      uint32
	idx      uint64 // running sample index of the next frame
	running  bool
	t0       time.Time // device start
	base     time.Time // when sample baseIdx was taken
	baseIdx  uint64
	baseUS   uint64 // device time of sample baseIdx
	lastEmit time.Time
	linkFree time.Time // --baud: when the simulated UART is idle again
	nextFlip int64     // --corrupt-rate: bytes to pass before the next flip

	frm     frame.Frame
	payload []byte
	pkt     []byte
	out     []byte
	pend    pending   // frames in out
	ready   time.Time // --baud: when the first bytes in out existed

	mu    sync.Mutex
	stats Stats
}

// NewDevice validates cfg and builds a device; a wav: signal's file is read
// here.
func NewDevice(cfg Config) (*Device, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	seed := cfg.Seed
	if seed == 0 {
		seed = rand.Uint64()
		if cfg.Signal == "noise" || cfg.CorruptRate > 0 || cfg.BootGarbage {
			cfg.Log.Info().Uint64("seed", seed).Msg("random seed; pass --seed to repeat this run")
		}
	}
	d := &Device{cfg: cfg, text: cfg.Wire == WireText || cfg.Wire == WirePlotter, running: true,
		rng: rand.New(rand.NewPCG(seed, 2))}
	if cfg.Wire == WirePlotter {
		d.labels = plotterLabels(cfg)
	}
	d.st, _ = frame.ParseSampleType(cfg.SampleType)
	src, rate, err := newSource(&cfg, rand.New(rand.NewPCG(seed, 1)))
	if err != nil {
		return nil, sentinel.Tag(err, ErrConfig)
	}
	d.src, d.rate = src, rate
	warnAliasing(&cfg, rate)
	d.fs = d.frameSamples(rate)
	d.nextFlip = d.geom()
	return d, nil
}

// frameSamples is the configured frame size, or 10 ms of samples.
func (d *Device) frameSamples(rate uint32) int {
	if d.cfg.FrameSamples > 0 {
		return d.cfg.FrameSamples
	}
	return min(max(1, int(rate/100)), maxFrameSamples(d.cfg.Channels, d.st))
}

// maxFrameSamples is the most sample instants a frame of channels x st
// carries.
func maxFrameSamples(channels int, st frame.SampleType) int {
	return min(math.MaxUint16, frame.MaxPayload/(channels*st.Size()))
}

// Rate is the sample rate the device starts with (the wav file's rate for
// wav: signals without an explicit rate).
func (d *Device) Rate() uint32 { return d.rate }

// FrameSamples is the number of sample instants per frame at the start rate.
func (d *Device) FrameSamples() int { return d.frameSamples(d.rate) }

// Stats returns a copy of the counters.
func (d *Device) Stats() Stats {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.stats.clone()
}

func (d *Device) count(f func(s *Stats)) {
	d.mu.Lock()
	f(&d.stats)
	d.mu.Unlock()
}

// mulDiv is a*b/c without overflow in between (saturating).
func mulDiv(a, b uint64, c uint32) uint64 {
	hi, lo := bits.Mul64(a, b)
	if hi >= uint64(c) {
		return math.MaxUint64
	}
	q, _ := bits.Div64(hi, lo, uint64(c))
	return q
}

// at is when sample idx is taken, on the monotonic clock.
func (d *Device) at(idx uint64) time.Time {
	return d.base.Add(time.Duration(mulDiv(idx-d.baseIdx, 1e9, d.rate)))
}

// due is when the next frame is complete and can be sent.
func (d *Device) due() time.Time { return d.at(d.idx + uint64(d.fs)) }

// timeUS is the device time of the next frame's first sample.
func (d *Device) timeUS() uint64 { return d.baseUS + mulDiv(d.idx-d.baseIdx, 1e6, d.rate) }

// rebase restarts pacing: sample idx is taken at t, device time us.
func (d *Device) rebase(t time.Time, us uint64) {
	d.base, d.baseIdx, d.baseUS = t, d.idx, us
}

// skipWhile generates the frames that are due while lost(due) holds
// without sending them, counts them as lost for reason, and returns their
// seq range (n = 0: none).
func (d *Device) skipWhile(reason string, lost func(due time.Time) bool) (from uint32, n int) {
	from = d.seq
	for d.running && lost(d.due()) {
		d.seq++
		d.idx += uint64(d.fs)
		n++
	}
	if n > 0 {
		d.count(func(s *Stats) {
			s.Frames += uint64(n)
			s.addLost(from, n, reason)
		})
	}
	return from, n
}

// Run attaches the device to port and runs it until ctx is done (it then
// returns nil), writing to port fails (the error), or a simulated unplug is
// due (ErrUnplugged, after the port's reader has taken every byte sent).
//
// If port has SetDeadline (a vport.Port, a net.Conn), cancelling ctx
// unblocks a pending Write, and a Read deadline stops the command reader
// before Run returns; otherwise the command reader ends when the caller
// closes port.
func (d *Device) Run(ctx context.Context, port io.ReadWriter) error {
	stopAfter := context.AfterFunc(ctx, func() { setDeadline(port, time.Now()) })
	defer stopAfter()
	if err := d.attach(ctx, port); err != nil {
		return d.exitErr(ctx, err)
	}
	lines, stopReader := startReader(port)
	defer stopReader()
	unplugAt, disarm := d.armUnplug(port)
	defer disarm()
	timer := time.NewTimer(time.Until(d.nextWake(unplugAt)))
	defer timer.Stop()
	for {
		var err error
		select {
		case <-ctx.Done():
			return nil
		case line, ok := <-lines:
			if !ok {
				lines = nil
				continue
			}
			err = d.command(ctx, port, line)
		case <-timer.C:
			if !unplugAt.IsZero() && !time.Now().Before(unplugAt) {
				return d.unplug(ctx, port)
			}
			err = d.emitDue(ctx, port)
		}
		if errors.Is(err, os.ErrDeadlineExceeded) && !unplugAt.IsZero() && !time.Now().Before(unplugAt) {
			return d.unplugCut()
		} else if err != nil {
			return d.exitErr(ctx, err)
		}
		timer.Reset(time.Until(d.nextWake(unplugAt)))
	}
}

// unplugCut reports a simulated unplug that came while a write was blocked
// (the reader had not taken the bytes before): the frames cut short are
// lost, counted as detached with their exact seq range.
func (d *Device) unplugCut() error {
	from, n := d.loseCut()
	ev := d.cfg.Log.Warn().Int("frames", n)
	if n > 0 {
		ev = ev.Uint32("from", from).Uint32("to", from+uint32(n)-1)
	}
	ev.Msg("simulated unplug during a write the reader had not taken: the frames cut short are lost")
	d.count(func(s *Stats) { s.Unplugs++ })
	return ErrUnplugged
}

// armUnplug returns when the simulated unplug is due (zero for never) and
// makes a write blocked because nobody reads end then, if port allows.
func (d *Device) armUnplug(port io.ReadWriter) (time.Time, func()) {
	if d.cfg.UnplugEvery <= 0 {
		return time.Time{}, func() {}
	}
	at := time.Now().Add(d.cfg.UnplugEvery)
	p, ok := port.(interface{ SetWriteDeadline(time.Time) error })
	if !ok {
		return at, func() {}
	}
	p.SetWriteDeadline(at)
	return at, func() { p.SetWriteDeadline(time.Time{}) }
}

func (d *Device) exitErr(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return nil
	}
	return fmt.Errorf("failed to write to the port: %w", err)
}

func setDeadline(port io.ReadWriter, t time.Time) {
	if p, ok := port.(interface{ SetDeadline(time.Time) error }); ok {
		p.SetDeadline(t)
	}
}

// nextWake is when the loop must run next: the next frame or the unplug.
func (d *Device) nextWake(unplugAt time.Time) time.Time {
	wake := time.Now().Add(idleWake)
	if d.running {
		wake = d.due()
		if w := d.lastEmit.Add(minInterval); w.After(wake) {
			wake = w
		}
	}
	if !unplugAt.IsZero() && unplugAt.Before(wake) {
		wake = unplugAt
	}
	return wake
}

// warnAliasing warns when a periodic signal's frequency is not below half
// the sample rate: its samples then draw a slower wave, or none.
func warnAliasing(cfg *Config, rate uint32) {
	switch cfg.Signal {
	case "sine", "square", "saw":
	default:
		return
	}
	if half := float64(rate) / 2; cfg.Freq >= half {
		cfg.Log.Warn().Float64("freq", cfg.Freq).Uint32("rate", rate).
			Msgf("freq %g Hz is not below half the rate (%g Hz): the %s signal aliases; choose freq below %g Hz or a higher rate",
				cfg.Freq, half, cfg.Signal, half)
	}
}
