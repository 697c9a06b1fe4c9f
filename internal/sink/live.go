package sink

import (
	"io"
	"sync"
)

// LiveTerm shares a terminal between log lines and the one-line live
// status: each log line first clears the status line, which is redrawn
// after it. Use it as the log's writer and as Options.Live. Safe for
// concurrent use.
type LiveTerm struct {
	mu   sync.Mutex
	w    io.Writer
	line string
}

// NewLiveTerm returns a LiveTerm on w (a terminal, usually stderr).
func NewLiveTerm(w io.Writer) *LiveTerm { return &LiveTerm{w: w} }

// Write writes a log line above the status line.
func (t *LiveTerm) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.line != "" {
		io.WriteString(t.w, "\r\x1b[K")
	}
	n, err := t.w.Write(p)
	if t.line != "" {
		io.WriteString(t.w, "\r"+t.line+"\x1b[K")
	}
	return n, err
}

// set redraws the status line; "" clears it.
func (t *LiveTerm) set(line string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.line = line
	if line == "" {
		io.WriteString(t.w, "\r\x1b[K")
		return
	}
	io.WriteString(t.w, "\r"+line+"\x1b[K")
}
