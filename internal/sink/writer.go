package sink

import (
	"context"
	"errors"
	"os"
	"time"
)

// maxBatch is the most the writer hands the port in one Write. Batching
// matters: a pty moves ~240 MB/s in 4 KiB writes but ~8 MB/s in 64-byte ones.
const maxBatch = 64 << 10

// writeLoop is the one goroutine that writes to the output port. It takes
// everything queued (up to maxBatch) per Write, and returns when the queue
// is closed and drained, or ctx ends. A real port that fails is reopened.
func (s *Sink) writeLoop(ctx context.Context) {
	buf := make([]byte, 0, maxBatch)
	var meta []sent
	var lastErr time.Time
	for {
		b, m, ok := s.q.pop(ctx, buf[:0], maxBatch, meta[:0])
		if !ok {
			return
		}
		meta = m
		p, gen := s.box.get()
		if p == nil {
			if p, gen = s.reopen(ctx); p == nil {
				s.q.undelivered(meta, 0)
				return
			}
		}
		n, err := p.Write(b)
		s.st.bytesWritten.Add(uint64(n))
		if err == nil {
			continue
		}
		s.q.undelivered(meta, n)
		if errors.Is(err, os.ErrClosed) || ctx.Err() != nil {
			return
		}
		s.st.writeErrors.Add(1)
		if time.Since(lastErr) > 10*time.Second || !s.info.Virtual {
			s.log.Error().Err(err).Int("bytes_lost", len(b)-n).Str("port", s.info.Name).Msg("failed to write to the output port")
			lastErr = time.Now()
		}
		if !s.info.Virtual {
			s.box.fail(gen)
			continue
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// reopen waits for a failed real port to come back and returns it with
// its generation (nil when ctx ends or the port is closed for good).
func (s *Sink) reopen(ctx context.Context) (outPort, int) {
	s.log.Warn().Str("port", s.info.Name).Dur("retry_every", reopenEvery).
		Msg("output port gone: reopening it when it is back; meanwhile the buffer fills and --when-full applies")
	logged := false
	p, gen := s.box.reopen(ctx, func(err error) {
		if !logged {
			s.log.Warn().Err(err).Msg("output port still away")
			logged = true
		}
	})
	if p != nil {
		s.log.Info().Str("port", s.info.Name).Msg("output port back")
	}
	return p, gen
}

// deadliner is a port whose pending Write can be cut short (vport.Port).
type deadliner interface{ SetWriteDeadline(time.Time) error }

// flush waits up to FlushTimeout for the writer to drain the queue, then
// cuts a blocked Write short. It records what it wrote and what it had to
// drop, for the line Run logs at exit.
func (s *Sink) flush(cancelWriter context.CancelFunc, done <-chan struct{}) {
	before := s.st.bytesWritten.Load()
	dropped, _ := s.q.dropTotals()
	defer func() {
		s.flushed = s.st.bytesWritten.Load() - before
		d, _ := s.q.dropTotals()
		s.lostAtExit = d - dropped
	}()
	s.q.close()
	t := time.NewTimer(s.o.FlushTimeout)
	defer t.Stop()
	select {
	case <-done:
		return
	case <-t.C:
	}
	d, b := s.q.level()
	s.log.Warn().Dur("queued", d).Int("queued_bytes", b).Dur("waited", s.o.FlushTimeout).
		Msg("output port not read: what is still queued at exit is dropped (counted)")
	cancelWriter()
	p, _ := s.box.get()
	if dl, ok := p.(deadliner); ok {
		dl.SetWriteDeadline(time.Now())
	} else {
		s.box.close()
	}
	<-done
	s.q.dropAll()
}
