package adcsim

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/rs/zerolog"

	"github.com/wsbridge/wsbridge/internal/result"
	"github.com/wsbridge/wsbridge/internal/sentinel"
	"github.com/wsbridge/wsbridge/internal/vport"
)

// Options configure Serve, the job of `wsbridge sim`: a device (Config) on
// a virtual serial port or on Out.
type Options struct {
	Config
	Link   string    // symlink to the pty, e.g. /tmp/ttySIM; "" for none
	Stdout bool      // write the device's bytes to Out instead of a pty (no commands, no unplug)
	JSON   bool      // announce ports as {"pty":..,"link":..} lines
	Out    io.Writer // results: the port announcements, or the data with Stdout
}

// Serve runs the device until ctx is done. With a pty it announces the
// port on Out ("pty /dev/pts/5 link /tmp/ttySIM", or JSON) each time it is
// created, at start and after every simulated unplug, and removes the link
// on return.
func Serve(ctx context.Context, opts Options) error {
	if opts.Stdout && opts.UnplugEvery > 0 {
		return sentinel.Errorf(ErrConfig, "unplug-every: needs a virtual serial port, not --stdout")
	}
	if opts.Stdout && opts.Link != "" {
		return sentinel.Errorf(ErrConfig, "link: there is no port to link to with --stdout")
	}
	dev, err := NewDevice(opts.Config)
	if err != nil {
		return err
	}
	return serveDevice(ctx, dev, &opts)
}

// serveDevice is Serve with the device made.
func serveDevice(ctx context.Context, dev *Device, opts *Options) error {
	log := opts.Log.With().Str("signal", opts.Signal).Uint32("rate", dev.Rate()).Logger()
	if opts.Stdout {
		log.Info().Str("wire", opts.Wire).Msg("simulated device writing to stdout")
		return dev.Run(ctx, writeOnly{opts.Out})
	}
	for {
		err := runPTY(ctx, dev, opts, log)
		if !errors.Is(err, ErrUnplugged) {
			return err
		}
		log.Info().Dur("pause", opts.UnplugPause).Msg("simulated unplug: port removed")
		if !sleepUntil(ctx, time.Now().Add(opts.UnplugPause)) {
			return nil
		}
	}
}

// runPTY creates a pty, announces it and runs dev on it until it returns.
func runPTY(ctx context.Context, dev *Device, opts *Options, log zerolog.Logger) error {
	p, err := vport.Create(opts.Link)
	if errors.Is(err, vport.ErrNotSymlink) {
		return sentinel.Errorf(ErrConfig, "link: %w", err)
	}
	if err != nil {
		return fmt.Errorf("failed to create the virtual serial port: %w", err)
	}
	defer p.Close()
	if err := announce(opts, p.Name(), p.Link()); err != nil {
		return err
	}
	log.Info().Str("pty", p.Name()).Str("link", p.Link()).Str("wire", opts.Wire).
		Msg("simulated device ready; open the pty (or the link) like a serial port")
	return dev.Run(ctx, p)
}

// Announcement is what sim prints each time its port is ready.
type Announcement struct {
	PTY  string `json:"pty"`
	Link string `json:"link"`
}

// String is "pty /dev/pts/5 link /tmp/ttySIM" (without a link: "pty /dev/pts/5").
func (a Announcement) String() string {
	if a.Link == "" {
		return "pty " + a.PTY
	}
	return "pty " + a.PTY + " link " + a.Link
}

func announce(opts *Options, pty, link string) error {
	if err := result.Print(opts.Out, opts.JSON, Announcement{pty, link}); err != nil {
		return fmt.Errorf("failed to print the port name: %w", err)
	}
	return nil
}

// writeOnly is a port that takes no commands.
type writeOnly struct{ io.Writer }

func (writeOnly) Read([]byte) (int, error) { return 0, io.EOF }
