package sentinel

import (
	"errors"
	"io/fs"
	"testing"
)

var errClass = errors.New("class")

func TestTagKeepsMessageAndMatchesBoth(t *testing.T) {
	err := Errorf(errClass, "failed to open %s: %w", "/dev/x", fs.ErrNotExist)
	if err.Error() != "failed to open /dev/x: file does not exist" {
		t.Errorf("message %q", err)
	}
	if !errors.Is(err, errClass) || !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("errors.Is: class %v, cause %v", errors.Is(err, errClass), errors.Is(err, fs.ErrNotExist))
	}
	if Tag(nil, errClass) != nil {
		t.Error("Tag(nil) is not nil")
	}
}
