//go:build !load

package e2e

// loadTag: built without -tags load, size returns the normal (or -short) sizes.
const loadTag = false
