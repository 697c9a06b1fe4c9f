package sink

import (
	"bytes"
	"context"
	"errors"
	"os"
	"time"

	"github.com/wsbridge/wsbridge/internal/wsproto"
)

// upstream is the one goroutine that reads the output port: lines that R
// (or anyone) writes into it are sent to serve as commands. It returns when
// the port is closed for good or ctx ends.
func (s *Sink) upstream(ctx context.Context) {
	buf := make([]byte, 4096)
	var line []byte
	p, gen := s.box.get()
	for ctx.Err() == nil {
		if p == nil {
			if p, gen = s.box.wait(ctx, gen); p == nil {
				return
			}
		}
		n, err := p.Read(buf)
		for _, c := range buf[:n] {
			if c != '\n' && c != '\r' {
				if len(line) <= wsproto.MaxCommandLine {
					line = append(line, c)
				}
				continue
			}
			s.command(ctx, line)
			line = line[:0]
		}
		if n > 0 && err == nil {
			continue
		}
		if !s.readFailed(ctx, err, gen) {
			return
		}
		if !s.info.Virtual {
			p, line = nil, line[:0]
		}
	}
}

// readFailed handles a failed read and reports whether to go on. A pty
// reports EIO while nobody has the slave open: wait. A real port that
// reads nothing or fails is gone (unplugged): the writer reopens it.
func (s *Sink) readFailed(ctx context.Context, err error, gen int) bool {
	if ctx.Err() != nil || errors.Is(err, os.ErrClosed) && s.info.Virtual {
		return false
	}
	if !s.info.Virtual {
		s.box.fail(gen)
		return true
	}
	select {
	case <-ctx.Done():
		return false
	case <-time.After(200 * time.Millisecond):
		return true
	}
}

// command sends one line to serve as a command.
func (s *Sink) command(ctx context.Context, line []byte) {
	line = bytes.TrimSpace(line)
	if len(line) == 0 {
		return
	}
	if len(line) > wsproto.MaxCommandLine {
		s.log.Warn().Int("bytes", len(line)).Msgf("ignoring a line longer than %d bytes written into the port", wsproto.MaxCommandLine)
		return
	}
	err := s.sendCommand(ctx, string(line))
	if err != nil {
		s.log.Warn().Err(err).Str("line", string(line)).Msg("command not sent")
		s.toPort(ctx, false, "command not sent: "+err.Error())
		return
	}
	s.st.commands.Add(1)
	s.log.Info().Str("line", string(line)).Msg("command sent to serve")
}
