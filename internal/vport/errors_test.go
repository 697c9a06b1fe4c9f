package vport

import (
	"errors"
	"strings"
	"testing"
)

// TestUnsupportedNamesWhatToUse: on Windows, where there are no ptys, the
// error names com0com (built there only, so its text is checked here).
func TestUnsupportedNamesWhatToUse(t *testing.T) {
	err := unsupported("windows")
	if !errors.Is(err, ErrUnsupported) || !strings.Contains(err.Error(), "on windows: install com0com") ||
		!strings.Contains(err.Error(), "--port COM10") {
		t.Errorf("windows: %v", err)
	}
	if err := unsupported("plan9"); !strings.Contains(err.Error(), "use a real port (--port) instead") {
		t.Errorf("plan9: %v", err)
	}
}
