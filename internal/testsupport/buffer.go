package testsupport

import (
	"bytes"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"
)

// SyncBuffer is a bytes.Buffer safe for concurrent use: one goroutine (a
// logger, a program's output) writes while the test reads. The zero value
// is ready to use.
type SyncBuffer struct {
	// Limit, if positive, caps what is kept, for long tests: a write that
	// would pass it first drops the older half (up to a line boundary).
	// Set it before the first write.
	Limit int

	mu sync.Mutex
	b  bytes.Buffer
}

func (s *SyncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.Limit > 0 && s.b.Len()+len(p) > s.Limit {
		keep := s.b.Bytes()[s.b.Len()/2:]
		if i := bytes.IndexByte(keep, '\n'); i >= 0 {
			keep = keep[i+1:]
		}
		rest := append([]byte(nil), keep...)
		s.b.Reset()
		s.b.Write(rest)
	}
	return s.b.Write(p)
}

// String returns a copy of everything written so far.
func (s *SyncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// LogEntries returns the JSON log lines (zerolog's output) whose message
// contains msg, decoded, in the order they were written.
func (s *SyncBuffer) LogEntries(msg string) []map[string]any {
	var out []map[string]any
	for _, line := range strings.Split(s.String(), "\n") {
		var m map[string]any
		if json.Unmarshal([]byte(line), &m) != nil {
			continue
		}
		if text, _ := m["message"].(string); strings.Contains(text, msg) {
			out = append(out, m)
		}
	}
	return out
}

// WaitLogEntries waits up to d for at least n log entries whose message
// contains msg and returns them all; fewer fail the test, which then
// shows the whole buffer.
func (s *SyncBuffer) WaitLogEntries(t testing.TB, msg string, n int, d time.Duration) []map[string]any {
	t.Helper()
	var lines []map[string]any
	if !Within(d, 10*time.Millisecond, func() bool { lines = s.LogEntries(msg); return len(lines) >= n }) {
		t.Fatalf("want %d log lines with %q within %v, got %d:\n%s", n, msg, d, len(lines), s.String())
	}
	return lines
}
