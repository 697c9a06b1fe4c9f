package faultproxy

import "errors"

// ErrClosed is returned by methods called after Close.
var ErrClosed = errors.New("faultproxy: closed")
