package vport

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
)

// replaceLink points link at target, atomically replacing an existing
// symlink and refusing to touch anything else.
func replaceLink(target, link string) error {
	fi, err := os.Lstat(link)
	switch {
	case err == nil && fi.Mode()&os.ModeSymlink == 0:
		return fmt.Errorf("failed to create link %s: %s %w (it is never overwritten); remove it or choose another path", link, link, ErrNotSymlink)
	case err != nil && !os.IsNotExist(err):
		return fmt.Errorf("failed to create link %s: %w", link, err)
	}
	tmp := filepath.Join(filepath.Dir(link), "."+filepath.Base(link)+".tmp"+strconv.Itoa(os.Getpid()))
	os.Remove(tmp)
	if err := os.Symlink(target, tmp); err != nil {
		return fmt.Errorf("failed to create link %s: %w", link, err)
	}
	if err := os.Rename(tmp, link); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("failed to create link %s: %w", link, err)
	}
	return nil
}

// removeLink removes link if it still points at target: a link that
// another program has replaced meanwhile is left alone.
func removeLink(target, link string) {
	if dst, err := os.Readlink(link); err == nil && dst == target {
		os.Remove(link)
	}
}
