package adcsim

import (
	"context"
	"io"
	"time"

	"github.com/wsbridge/wsbridge/internal/frame"
	"github.com/wsbridge/wsbridge/internal/periodic"
)

// attach starts the device on its first Run, or resumes it after an
// unplug, and sends the boot output and the device info.
func (d *Device) attach(ctx context.Context, w io.Writer) error {
	now := time.Now()
	d.linkFree, d.ready = now, now
	if from, n := d.loseCut(); n > 0 { // frames cut short when the last Run ended: the host never got them
		d.cfg.Log.Warn().Int("frames", n).Uint32("from", from).Uint32("to", from+uint32(n)-1).
			Msg("frames cut short when the port was last closed are lost")
	}
	if d.t0.IsZero() {
		d.t0, d.base, d.lastEmit = now, now, now
		d.appendBoot()
	} else {
		d.skipDetached(now)
		d.appendBoot() // a replugged ESP32 reboots: the ROM log again (with --boot-garbage), then a delimiter
	}
	d.appendInfo()
	return d.flush(ctx, w)
}

// skipDetached counts the frames generated while no port was attached.
func (d *Device) skipDetached(now time.Time) {
	first, n := d.skipWhile(GapDetached, func(due time.Time) bool { return !due.After(now) })
	if n > 0 {
		d.cfg.Log.Info().Int("frames", n).Uint32("from", first).Uint32("to", d.seq-1).
			Msg("re-attached; frames generated while unplugged are lost")
	}
}

// emitDue writes every frame that is due, dropping those that are more
// than MaxLag late (a real device's transmit buffer overflows the same way).
func (d *Device) emitDue(ctx context.Context, w io.Writer) error {
	now := time.Now()
	d.lastEmit = now
	// Lateness only falls from frame to frame: the late ones come first.
	dropFrom, dropped := d.skipWhile(GapDropped, func(due time.Time) bool { return now.Sub(due) > d.cfg.MaxLag })
	for d.running && !d.due().After(now) {
		if err := d.appendFrame(); err != nil {
			return err
		}
		if len(d.out) >= flushSize {
			if err := d.flush(ctx, w); err != nil {
				return err
			}
		}
	}
	if dropped > 0 {
		d.cfg.Log.Warn().Int("frames", dropped).Uint32("from", dropFrom).Uint32("to", dropFrom+uint32(dropped)-1).
			Dur("max_lag", d.cfg.MaxLag).Msg("dropped frames: output fell behind real time (is anyone reading the port? is --baud too low for the data?)")
	}
	return d.flush(ctx, w)
}

// appendFrame generates the next frame into the output buffer.
func (d *Device) appendFrame() error {
	n := d.fs * d.cfg.Channels * d.st.Size()
	if cap(d.payload) < n {
		d.payload = make([]byte, n)
	}
	d.frm = frame.Frame{Seq: d.seq, TimeUS: d.timeUS(), Rate: d.rate, Channels: uint8(d.cfg.Channels),
		SampleType: d.st, Count: uint16(d.fs), Data: d.payload[:n]}
	d.src.fill(&d.frm, d.idx)
	start := len(d.out)
	if start == 0 {
		d.ready = d.due()
	}
	var err error
	if d.out, err = d.appendEncoded(d.out, &d.frm); err != nil {
		return err
	}
	if len(d.pend.frames) == 0 {
		d.pend.first = d.seq
	}
	d.pend.frames = append(d.pend.frames, pendFrame{end: len(d.out), flipped: d.corrupt(d.out[start:])})
	d.seq++
	d.idx += uint64(d.fs)
	d.count(func(s *Stats) { s.Frames++ })
	return nil
}

// pending is what the output buffer holds until it is written: the data
// frames in it, seq first on, each with its end offset in out and the
// bytes flipped in it.
type pending struct {
	first  uint32
	frames []pendFrame
}

type pendFrame struct{ end, flipped int }

// commit counts the pending frames that the first written bytes of out
// hold in full as sent; the rest (cut short by a failed write) stay
// pending for loseCut.
func (d *Device) commit(written int) {
	p := &d.pend
	k := 0
	for k < len(p.frames) && p.frames[k].end <= written {
		k++
	}
	d.count(func(s *Stats) {
		s.Sent += uint64(k)
		for i, f := range p.frames[:k] {
			if f.flipped == 0 {
				continue
			}
			s.Corrupted++
			s.CorruptedBytes += uint64(f.flipped)
			if len(s.CorruptedSeqs) < MaxCorruptedSeqs {
				s.CorruptedSeqs = append(s.CorruptedSeqs, p.first+uint32(i))
			}
		}
	})
	p.first += uint32(k)
	p.frames = append(p.frames[:0], p.frames[k:]...)
}

// loseCut counts the frames cut short by the write that ended the last
// Run as detached (the host never gets them) and returns their seq range;
// n is 0 if there were none.
func (d *Device) loseCut() (from uint32, n int) {
	from, n = d.pend.first, len(d.pend.frames)
	if n > 0 {
		d.count(func(s *Stats) { s.addLost(from, n, GapDetached) })
	}
	d.pend.frames = d.pend.frames[:0]
	return from, n
}

// appendOther appends an info packet, reply or text line and applies the
// corruption fault to it.
func (d *Device) appendOther(b []byte) {
	start := len(d.out)
	if start == 0 {
		d.ready = time.Now()
	}
	d.out = append(d.out, b...)
	if flipped := d.corrupt(d.out[start:]); flipped > 0 {
		d.count(func(s *Stats) { s.CorruptedOther++; s.CorruptedBytes += uint64(flipped) })
	}
}

// flush writes the output buffer and counts the frames written in full.
func (d *Device) flush(ctx context.Context, w io.Writer) error {
	written, err := d.writeOut(ctx, w)
	d.commit(written)
	d.out = d.out[:0]
	return err
}

// writeOut writes the output buffer: in one Write, or paced like a UART of
// --baud in chunks of about 2 ms of line time. It returns how
// many bytes were written.
func (d *Device) writeOut(ctx context.Context, w io.Writer) (int, error) {
	if len(d.out) == 0 || d.cfg.Baud == 0 {
		return d.write(w, d.out)
	}
	perSec := float64(d.cfg.Baud) / 10
	chunk := max(16, int(perSec/500))
	// The UART sends these bytes once it is idle and they exist (when their
	// frame was due, however late this goroutine runs).
	ready := d.ready
	written := 0
	for written < len(d.out) {
		n := min(chunk, len(d.out)-written)
		d.linkFree = later(d.linkFree, ready).Add(time.Duration(float64(n) / perSec * 1e9))
		if !sleepUntil(ctx, d.linkFree) {
			return written, ctx.Err()
		}
		m, err := d.write(w, d.out[written:written+n])
		written += m
		if err != nil {
			return written, err
		}
	}
	return written, nil
}

func (d *Device) write(w io.Writer, b []byte) (int, error) {
	if len(b) == 0 {
		return 0, nil
	}
	n, err := w.Write(b)
	d.count(func(s *Stats) { s.Bytes += uint64(n) })
	return n, err
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// sleepUntil waits until t; false if ctx ended first.
func sleepUntil(ctx context.Context, t time.Time) bool {
	d := time.Until(t)
	if d <= 0 {
		return ctx.Err() == nil
	}
	return periodic.Sleep(ctx, d)
}

// unplug waits until the port's reader has taken every byte sent (so the
// frames lost are exactly those generated while detached) and reports the
// unplug. The pty's queue reads empty for a moment each time the reader
// empties it before the kernel moves more bytes in, so it must stay empty
// for drainQuiet; a reader that takes nothing for 2 s loses what is left.
func (d *Device) unplug(ctx context.Context, port io.ReadWriter) error {
	if b, ok := port.(interface{ Buffered() (int, error) }); ok {
		const step = 5 * time.Millisecond
		quiet := time.Duration(0)
		for deadline := time.Now().Add(2 * time.Second); quiet < drainQuiet && time.Now().Before(deadline); {
			if n, err := b.Buffered(); err != nil || n > 0 {
				quiet = 0
			} else {
				quiet += step
			}
			if !sleepUntil(ctx, time.Now().Add(step)) {
				return nil
			}
		}
		if quiet < drainQuiet {
			d.cfg.Log.Warn().Msg("unplugging with bytes the reader has not taken: they are lost too")
		}
	}
	d.count(func(s *Stats) { s.Unplugs++ })
	return ErrUnplugged
}
