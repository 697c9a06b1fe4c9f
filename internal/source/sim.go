package source

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"github.com/wsbridge/wsbridge/internal/adcsim"
	"github.com/wsbridge/wsbridge/internal/frame"
)

// simCommandTimeout bounds how long Command waits for the simulated
// device to take a line.
const simCommandTimeout = time.Second

// Sim is the in-process simulated ESP32 (package adcsim, the device
// `wsbridge sim` runs on a pty) as a Source: it starts the device on an
// in-memory port and decodes its bytes as a serial line carries them
// (COBS frames, or text lines for --sim-wire text and plotter), so the
// simulator's faults (boot garbage, corrupted bytes) reach the channel as
// a real board's would. Unplugs need a real port: run `wsbridge sim` and
// serve the pty.
//
// Command and Counters are safe for concurrent use with Run.
type Sim struct {
	cfg adcsim.Config
	log zerolog.Logger

	running atomic.Bool

	mu        sync.Mutex
	port      *adcsim.Port // nil while not running
	dec       frame.Stats  // the decoders' counters, after each read
	commands  uint64
	cmdErrors uint64
}

var _ Source = (*Sim)(nil)

// NewSim checks cfg and returns the simulator source. cfg.Log is its
// diagnostics logger.
func NewSim(cfg adcsim.Config) (*Sim, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.UnplugEvery > 0 {
		return nil, fmt.Errorf("unplug-every: the in-process simulator cannot be unplugged; run `wsbridge sim --unplug-every ...` and serve its pty")
	}
	return &Sim{cfg: cfg, log: cfg.Log}, nil
}

// Run starts the simulated device and hands its packets to pub until ctx
// ends (then it returns nil). It returns an error if the device cannot
// start or stops by itself.
func (s *Sim) Run(ctx context.Context, pub Publisher) error {
	if !s.running.CompareAndSwap(false, true) {
		return errors.New("source: Sim.Run called twice")
	}
	rwc, err := adcsim.Open(ctx, s.cfg)
	if err != nil {
		return fmt.Errorf("failed to start the simulator: %w", err)
	}
	port := rwc.(*adcsim.Port)
	defer port.Close()
	stop := context.AfterFunc(ctx, func() { port.Close() })
	defer stop()
	s.setPort(port)
	defer s.setPort(nil)
	write, stats := s.decoder(pub)
	pub.Up("simulator started")
	buf := make([]byte, 64<<10)
	for {
		n, err := port.Read(buf)
		if n > 0 {
			write(buf[:n])
			s.mu.Lock()
			s.dec = stats()
			s.mu.Unlock()
		}
		if err == nil {
			continue
		}
		if ctx.Err() != nil {
			return nil
		}
		if derr := port.Err(); derr != nil {
			err = derr
		}
		pub.Down("simulator stopped: " + err.Error())
		return fmt.Errorf("the simulator stopped: %w", err)
	}
}

// decoder returns how the device's bytes are decoded and the decoders'
// counters: frames, or text lines for the text and plotter wires.
func (s *Sim) decoder(pub Publisher) (write func([]byte), stats func() frame.Stats) {
	if s.cfg.Wire == adcsim.WireFrames {
		d := frame.NewDecoder(pub.Packet)
		return func(b []byte) { d.Write(b) }, d.Stats
	}
	d := frame.NewTextDecoder(pub.Packet)
	d.ConfirmLines = frame.SerialConfirmLines
	d.Rate = s.cfg.Rate // the simulator knows its rate: announce it rather than measure it
	return func(b []byte) { d.Write(b); d.Flush() }, d.Stats
}

func (s *Sim) setPort(p *adcsim.Port) {
	s.mu.Lock()
	s.port = p
	s.mu.Unlock()
}

// Command writes line and a newline to the simulated device, which
// answers rate N, start, stop and info. It fails with ErrDown while the
// simulator is not running.
func (s *Sim) Command(line string) error {
	if strings.ContainsAny(line, "\r\n") {
		return fmt.Errorf("invalid command %q: must be a single line", line)
	}
	s.mu.Lock()
	port := s.port
	s.mu.Unlock()
	if port == nil {
		return fmt.Errorf("failed to send command: the simulator is not running: %w", ErrDown)
	}
	_ = port.SetWriteDeadline(time.Now().Add(simCommandTimeout)) // the port serialises writers
	_, err := port.Write([]byte(line + "\n"))
	s.mu.Lock()
	defer s.mu.Unlock()
	if err != nil {
		s.cmdErrors++
		return fmt.Errorf("failed to send command to the simulator: %w", err)
	}
	s.commands++
	return nil
}

// Counters reports the decoders' counters (under the serial port's names)
// and the commands written.
func (s *Sim) Counters() []Counter {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append(DecoderCounters(s.dec), CommandCounters(s.commands, s.cmdErrors)...)
}
