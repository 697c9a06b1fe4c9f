//go:build linux

package procstat

import (
	"os"
	"syscall"
	"testing"
	"time"
)

// burn spins until this process has used d more CPU (getrusage's
// count), or 10 s have passed.
func burn(t *testing.T, d time.Duration) {
	t.Helper()
	used := func() time.Duration {
		var ru syscall.Rusage
		if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
			t.Fatal(err)
		}
		return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	for start, end := used(), time.Now().Add(10*time.Second); used()-start < d && time.Now().Before(end); {
	}
}

// TestSelf burns 200 ms of CPU and checks that every reader sees this
// process as it is.
func TestSelf(t *testing.T) {
	cpu0, _, err := Sched(0)
	if err != nil {
		t.Fatal(err)
	}
	_, tick0, err := Stat(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	burn(t, 200*time.Millisecond)
	cpu1, _, _ := Sched(os.Getpid())
	if d := cpu1 - cpu0; d < 150*time.Millisecond {
		t.Errorf("Sched: %v of CPU after 200 ms of CPU, want at least 150 ms", d)
	}
	pgrp, tick1, _ := Stat(0)
	if d := tick1 - tick0; d < 100*time.Millisecond {
		t.Errorf("Stat: %v of CPU after 200 ms of CPU, want at least 100 ms (10 ms ticks)", d)
	}
	if pgrp <= 0 {
		t.Errorf("Stat: process group %d, want > 0", pgrp)
	}
	rss, hwm, err := Mem(0)
	if err != nil || rss <= 0 || hwm < rss {
		t.Errorf("Mem = %d, %d kB, %v; want 0 < VmRSS <= VmHWM", rss, hwm, err)
	}
	if n := Switches(0); n <= 0 {
		t.Errorf("Switches = %d, want > 0", n)
	}
}

func TestMissingProcess(t *testing.T) {
	const pid = 1 << 30 // above pid_max
	if _, _, err := Sched(pid); err == nil {
		t.Error("Sched of a process that does not exist: no error")
	}
	if _, _, err := Stat(pid); err == nil {
		t.Error("Stat of a process that does not exist: no error")
	}
	if _, _, err := Mem(pid); err == nil {
		t.Error("Mem of a process that does not exist: no error")
	}
}
