package adcsim

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// maxCommand is the longest command line kept; the rest is cut.
const maxCommand = 256

// startReader reads command lines (ending in \n or \r) from r in a
// goroutine. stop ends it: at once if r has SetReadDeadline, else when the
// owner closes r.
func startReader(r io.Reader) (lines <-chan string, stop func()) {
	ch := make(chan string, 16)
	done, exited := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(exited)
		defer close(ch)
		buf, line := make([]byte, 512), make([]byte, 0, maxCommand)
		for {
			n, err := r.Read(buf)
			for _, c := range buf[:n] {
				if c != '\n' && c != '\r' {
					if len(line) < maxCommand {
						line = append(line, c)
					}
					continue
				}
				if len(line) > 0 {
					select {
					case ch <- string(line):
					case <-done:
						return
					}
				}
				line = line[:0]
			}
			if err != nil {
				return
			}
		}
	}()
	return ch, func() {
		close(done)
		if d, ok := r.(interface{ SetReadDeadline(time.Time) error }); ok && d.SetReadDeadline(time.Now()) == nil {
			<-exited
			d.SetReadDeadline(time.Time{})
		}
	}
}

// command executes one command line and sends the reply.
func (d *Device) command(ctx context.Context, w io.Writer, line string) error {
	if err := d.emitDue(ctx, w); err != nil { // frames up to now belong to the old settings
		return err
	}
	d.cfg.Log.Debug().Str("command", line).Msg("command")
	f := strings.Fields(line)
	switch {
	case len(f) == 0:
		return nil
	case f[0] == "rate":
		d.cmdRate(f[1:])
	case line == "start":
		if !d.running {
			d.running = true
			now := time.Now()
			d.rebase(now, uint64(now.Sub(d.t0).Microseconds()))
		}
		d.appendReply(true, "start")
	case line == "stop":
		d.running = false
		d.appendReply(true, "stop")
	case line == "info":
		d.appendInfo()
		d.appendReply(true, "info")
	default:
		d.appendReply(false, fmt.Sprintf("unknown command %q", line))
	}
	return d.flush(ctx, w)
}

// cmdRate changes the sample rate from the next frame on: pacing and device
// time continue from the end of the last frame sent.
func (d *Device) cmdRate(args []string) {
	if len(args) != 1 {
		d.appendReply(false, "usage: rate N (Hz)")
		return
	}
	n, err := strconv.ParseUint(args[0], 10, 32)
	if err != nil || n < 1 || n > MaxRate {
		d.appendReply(false, fmt.Sprintf("rate: must be 1..%d Hz, got %q", MaxRate, args[0]))
		return
	}
	d.rebase(d.at(d.idx), d.timeUS())
	d.rate = uint32(n)
	d.fs = d.frameSamples(d.rate)
	d.appendInfo()
	d.appendReply(true, "rate "+strconv.FormatUint(n, 10))
	d.cfg.Log.Info().Uint64("rate", n).Int("frame_samples", d.fs).Msg("rate changed")
}
