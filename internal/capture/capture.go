package capture

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"github.com/wsbridge/wsbridge/internal/periodic"
	"github.com/wsbridge/wsbridge/internal/source"
)

// Tunables.
const (
	readBufSize   = 64 << 10
	commandQueue  = 64
	backoffMin    = 100 * time.Millisecond
	backoffMax    = 2 * time.Second
	detectQuiet   = 10 * time.Millisecond  // auto input: read timeout while detection watches
	framesTimeout = 250 * time.Millisecond // frames: read timeout, to notice a vanished path
	pathCheck     = time.Second
)

// Capture reads one serial device: it is the serial port's source.Source.
// New builds it; Run owns the device until its context ends (call Run
// once). Command, Counters and Stats are safe to call concurrently with
// Run and with each other, before, during and after it.
type Capture struct {
	opts    Options
	log     zerolog.Logger
	match   *Match
	list    func() ([]PortInfo, error)
	cmds    chan string
	running atomic.Bool

	mu    sync.Mutex // guards cur and stats
	cur   *conn
	stats Stats

	in *input // owned by the Run goroutine
}

// New validates opts and returns a Capture. It does not open anything.
func New(opts Options) (*Capture, error) {
	opts = opts.withDefaults()
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	c := &Capture{opts: opts, log: opts.Log, list: ListPorts, cmds: make(chan string, commandQueue)}
	if opts.Match != "" {
		m, _ := ParseMatch(opts.Match)
		c.match = &m
	}
	return c, nil
}

// Run opens the device and reads it until ctx is cancelled, handing every
// valid packet to pub on this goroutine as read (the channel behind pub
// classifies the frames' sequence numbers), with pub.Up when the port is
// open and pub.Down when it is lost. If the device cannot be opened at
// start it returns the error (wrapping ErrNotFound, ErrPermission or
// ErrBusy where that is the cause): a source.Supervisor retries it or
// gives up, as the user asked. Once running, a lost device is reopened
// with backoff for as long as ctx lasts. Run returns nil after
// cancellation.
func (c *Capture) Run(ctx context.Context, pub source.Publisher) error {
	if !c.running.CompareAndSwap(false, true) {
		return errors.New("capture: Run called twice")
	}
	cn, err := c.open(ctx)
	if err != nil {
		return err
	}
	c.in = newInput(c.opts, pub, c.log)
	var wg sync.WaitGroup
	defer wg.Wait()
	wctx, stopWriter := context.WithCancel(ctx)
	defer stopWriter()
	wg.Go(func() { c.writer(wctx) })
	for reopened := false; ; reopened = true {
		reason := c.serve(ctx, cn, pub, reopened)
		if ctx.Err() != nil {
			c.in.flush()
			c.setDown(false)
			return nil
		}
		c.deviceDown(cn, pub, reason)
		if cn = c.reopen(ctx); cn == nil {
			return nil
		}
		c.in.resync()
	}
}

// serve reads cn until it fails or ctx ends, then closes it.
func (c *Capture) serve(ctx context.Context, cn *conn, pub source.Publisher, reopened bool) string {
	stop := context.AfterFunc(ctx, func() { cn.close() })
	defer stop()
	defer cn.close()
	c.setUp(cn, reopened)
	reason := "open"
	if reopened {
		reason = "reopen"
	}
	c.log.Info().Str("port", cn.name).Str("reason", reason).Msg("device up")
	pub.Up(reason + " " + cn.name)
	return c.readLoop(ctx, cn)
}

// readLoop reads until an error and returns why the device is down.
func (c *Capture) readLoop(ctx context.Context, cn *conn) string {
	buf := make([]byte, readBufSize)
	lastCheck, zeros := time.Now(), 0
	for ctx.Err() == nil {
		if cn.canTimeout() {
			_ = cn.setTimeout(c.in.timeout())
		}
		n, err := cn.read(buf)
		if n > 0 {
			c.in.feed(buf[:n], time.Now())
			zeros = 0
		}
		if err != nil {
			return downReason(err)
		}
		if n == 0 {
			c.in.idle(time.Now())
			if zeros++; !cn.canTimeout() && zeros >= 3 {
				return "zero-byte reads: device gone"
			}
			if time.Since(lastCheck) >= pathCheck {
				lastCheck = time.Now()
				if filepath.IsAbs(cn.name) && !pathExists(cn.name) { // not "sim", nor COM3
					return "device path " + cn.name + " is gone"
				}
			}
		}
		c.publish()
	}
	return "stopped"
}

func downReason(err error) string {
	switch {
	case isClosedErr(err):
		return "port closed: device unplugged?"
	case errors.Is(err, io.EOF):
		return "end of stream: device hung up (unplugged?)"
	}
	return "read error: " + err.Error()
}

// deviceDown records and reports the loss of cn.
func (c *Capture) deviceDown(cn *conn, pub source.Publisher, reason string) {
	c.in.flush()
	c.setDown(true)
	c.log.Warn().Str("port", cn.name).Str("reason", reason).
		Msg("device down; waiting for it to come back")
	pub.Down(reason)
}

// reopen retries opening the device with backoff until it succeeds or ctx
// ends (then it returns nil). Each distinct failure is logged once.
func (c *Capture) reopen(ctx context.Context) *conn {
	delay, last := backoffMin, ""
	for {
		if !periodic.Sleep(ctx, delay) {
			return nil
		}
		cn, err := c.open(ctx)
		if err == nil {
			return cn
		}
		if msg := err.Error(); msg != last {
			c.log.Info().Err(err).Msg("device not back yet; retrying")
			last = msg
		}
		delay = min(delay*2, backoffMax)
	}
}

func (c *Capture) setUp(cn *conn, reopened bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.cur = cn
	c.stats.DeviceUp, c.stats.Port = true, cn.name
	c.stats.Opens++
	if reopened {
		c.stats.Reopens++
	}
}

func (c *Capture) setDown(lost bool) {
	c.publish()
	c.mu.Lock()
	defer c.mu.Unlock()
	c.cur = nil
	c.stats.DeviceUp = false
	if lost {
		c.stats.Downs++
	}
}

// publish copies the decoders' counters into the shared snapshot.
func (c *Capture) publish() {
	s, mode := c.in.stats()
	c.mu.Lock()
	c.stats.Stats, c.stats.Input = s, mode
	c.mu.Unlock()
}

// Stats returns a snapshot of the counters. Safe for concurrent use. The
// decoder counters are published after each read, so they may trail the
// Publisher calls by one read (at most 64 KiB).
func (c *Capture) Stats() Stats {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.stats
}

// Command queues line (without its newline) to be written to the device
// followed by "\n". It fails if the device is not connected, if line holds
// a line break, or if the queue (64 lines) is full. Safe for concurrent use.
func (c *Capture) Command(line string) error {
	if strings.ContainsAny(line, "\r\n") {
		return fmt.Errorf("invalid command %q: must be a single line", line)
	}
	if c.current() == nil {
		return fmt.Errorf("failed to send command: %w", ErrGone)
	}
	select {
	case c.cmds <- line:
		return nil
	default:
		return fmt.Errorf("failed to send command: %w", ErrQueueFull)
	}
}

func (c *Capture) current() *conn {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.cur
}

// writer is the one goroutine that writes commands to the device.
func (c *Capture) writer(ctx context.Context) {
	var buf []byte
	for {
		select {
		case <-ctx.Done():
			return
		case line := <-c.cmds:
			buf = append(append(buf[:0], line...), '\n')
			c.writeCommand(buf, line)
		}
	}
}

func (c *Capture) writeCommand(b []byte, line string) {
	err := ErrGone
	if cn := c.current(); cn != nil {
		err = cn.write(b)
	}
	c.mu.Lock()
	if err == nil {
		c.stats.Commands++
	} else {
		c.stats.CommandErrors++
	}
	c.mu.Unlock()
	if err != nil {
		c.log.Warn().Err(err).Str("command", line).Msg("failed to write command to the device")
	}
}
