//go:build !unix

package procs

import "time"

// cpuTime is not implemented here: Auto leaves GOMAXPROCS alone.
func cpuTime() (time.Duration, bool) { return 0, false }
