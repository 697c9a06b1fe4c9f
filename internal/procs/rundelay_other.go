//go:build !linux

package procs

import "time"

// runDelay is not known here: Auto follows the CPU time alone.
func runDelay() (time.Duration, bool) { return 0, false }
