package relay

import (
	"testing"
	"time"
)

// TestHistorySpanIsWhatIsHeld: /api/info's history.span_ms is the sample
// time of the frames held, growing until --history and then staying there,
// not the configured --history from the start.
func TestHistorySpanIsWhatIsHeld(t *testing.T) {
	s, _ := testServer(t, Options{History: 20 * time.Millisecond})
	publish(t, s, 0, 5) // 5 frames of 1 ms
	if h := s.Info().History; h.SpanMS != 5 || h.Frames != 5 {
		t.Fatalf("after 5 frames: %+v, want span_ms 5", h)
	}
	publish(t, s, 5, 100)
	if h := s.Info().History; h.SpanMS != 20 || h.Frames != 20 || h.FirstSeq != 80 {
		t.Fatalf("after 100 frames with --history 20ms: %+v, want 20 frames 80..99 over 20 ms", h)
	}
}
