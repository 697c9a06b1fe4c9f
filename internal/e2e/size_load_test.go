//go:build load

package e2e

// loadTag: built with -tags load, size returns the full sizes.
const loadTag = true
