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
// is closed and drained, or ctx ends.
func (s *Sink) writeLoop(ctx context.Context) {
	buf := make([]byte, 0, maxBatch)
	var lastErr time.Time
	for {
		b, ok := s.q.pop(ctx, buf[:0], maxBatch)
		if !ok {
			return
		}
		n, err := s.port.Write(b)
		s.st.bytesWritten.Add(uint64(n))
		if err == nil {
			continue
		}
		if errors.Is(err, os.ErrClosed) || ctx.Err() != nil {
			return
		}
		s.st.writeErrors.Add(1)
		if time.Since(lastErr) > 10*time.Second {
			s.log.Error().Err(err).Int("bytes_lost", len(b)-n).Str("port", s.info.Name).Msg("failed to write to the output port")
			lastErr = time.Now()
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// deadliner is a port whose pending Write can be cut short (vport.Port).
type deadliner interface{ SetWriteDeadline(time.Time) error }

// flush waits up to FlushTimeout for the writer to drain the queue, then
// cuts a blocked Write short.
func (s *Sink) flush(cancelWriter context.CancelFunc, done <-chan struct{}) {
	s.q.close()
	t := time.NewTimer(s.o.FlushTimeout)
	defer t.Stop()
	select {
	case <-done:
		return
	case <-t.C:
	}
	d, b := s.q.level()
	s.log.Warn().Dur("queued", d).Int("queued_bytes", b).Msg("output port not read: not flushed at exit")
	cancelWriter()
	if dl, ok := s.port.(deadliner); ok {
		dl.SetWriteDeadline(time.Now())
	} else {
		s.port.Close()
	}
	<-done
}
