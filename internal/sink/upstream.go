package sink

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"time"

	"github.com/wsbridge/wsbridge/internal/wsproto"
)

// upstream is the one goroutine that reads the output port: lines that R
// (or anyone) writes into it are sent to serve as commands. It returns when
// the port is closed or ctx ends.
func (s *Sink) upstream(ctx context.Context) {
	buf := make([]byte, 4096)
	var line []byte
	for ctx.Err() == nil {
		n, err := s.port.Read(buf)
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
		if err == nil {
			continue
		}
		if errors.Is(err, os.ErrClosed) || errors.Is(err, io.EOF) && !s.info.Virtual {
			return
		}
		// A pty reports EIO while nobody has the slave open: wait.
		select {
		case <-ctx.Done():
			return
		case <-time.After(200 * time.Millisecond):
		}
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
	err := s.client.send(ctx, wsproto.Command{Type: wsproto.TypeCommand, Line: string(line)})
	if err != nil {
		s.log.Warn().Err(err).Str("line", string(line)).Msg("command not sent")
		s.toPort(ctx, false, "command not sent: "+err.Error())
		return
	}
	s.st.commands.Add(1)
	s.log.Info().Str("line", string(line)).Msg("command sent to serve")
}
