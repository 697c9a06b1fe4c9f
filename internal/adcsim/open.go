package adcsim

import (
	"context"
	"io"
	"net"
	"sync"

	"github.com/wsbridge/wsbridge/internal/sentinel"
)

// Open starts a device for cfg on an in-process "serial port" and returns
// the host end: reading it yields the device's bytes in real time (the
// device blocks, and after Config.MaxLag drops frames, while nobody reads),
// and lines written to it are commands. It is what `serve --sim` reads.
//
// The device stops when ctx is done or the port is closed; then Read
// returns io.EOF. Close is idempotent and safe concurrently with Read and
// Write. Config.UnplugEvery needs a pty (Serve) and is refused here. The
// value is a *Port, whose Device field gives the device's Stats.
func Open(ctx context.Context, cfg Config) (io.ReadWriteCloser, error) {
	if cfg.UnplugEvery > 0 {
		return nil, sentinel.Errorf(ErrConfig, "unplug-every: needs a virtual serial port (wsbridge sim), not the in-process port")
	}
	dev, err := NewDevice(cfg)
	if err != nil {
		return nil, err
	}
	host, devEnd := net.Pipe()
	ctx, cancel := context.WithCancel(ctx)
	p := &Port{Conn: host, Device: dev, cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(p.done)
		if err := dev.Run(ctx, devEnd); err != nil {
			p.err = err
		}
		devEnd.Close()
	}()
	return p, nil
}

// Port is the host end of an in-process device (see Open). It is a
// net.Conn, so deadlines work too.
type Port struct {
	net.Conn
	Device *Device // for Stats

	cancel context.CancelFunc
	done   chan struct{}
	err    error
	once   sync.Once
}

// Close stops the device and closes the port. It is idempotent.
func (p *Port) Close() error {
	p.once.Do(func() {
		p.cancel()
		p.Conn.Close()
		<-p.done
	})
	return nil
}

// Err is the error the device stopped with, if any, once it has stopped.
func (p *Port) Err() error {
	select {
	case <-p.done:
		return p.err
	default:
		return nil
	}
}
