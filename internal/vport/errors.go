package vport

import "errors"

// ErrNotSymlink is returned by Create when the link path exists and is not
// a symlink: vport never overwrites a regular file, directory or device.
var ErrNotSymlink = errors.New("exists and is not a symlink")
