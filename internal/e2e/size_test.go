package e2e

import "testing"

// size picks a test's size. The README's `go test ./...` runs the normal
// size: every behaviour proved, in seconds. -short (the race detector's run
// in .ci/run) runs a smaller one. Built with -tags load, the tests run at
// the full size whose figures docs/reliability.md reports (200 clients, 100
// unplugs): .ci/run's soak and load section runs them so.
func size[T any](short, normal, full T) T {
	switch {
	case loadTag:
		return full
	case testing.Short():
		return short
	}
	return normal
}
