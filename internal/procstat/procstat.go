package procstat

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// ErrFormat is returned for a /proc file that does not read as expected.
var ErrFormat = errors.New("procstat: unexpected /proc format")

func dir(pid int) string {
	if pid == 0 {
		return "/proc/self"
	}
	return "/proc/" + strconv.Itoa(pid)
}

// Sched sums, over every thread of pid, the time on a CPU and the time
// spent waiting on a run queue for one (/proc/PID/task/*/schedstat, in
// nanoseconds: finer than Stat's 10 ms ticks). Threads that exit while
// it reads are left out.
func Sched(pid int) (cpu, wait time.Duration, err error) {
	tasks, err := os.ReadDir(dir(pid) + "/task")
	if err != nil {
		return 0, 0, fmt.Errorf("failed to list the threads of %s: %w", dir(pid), err)
	}
	for _, t := range tasks {
		b, err := os.ReadFile(dir(pid) + "/task/" + t.Name() + "/schedstat")
		if err != nil {
			continue // gone meanwhile
		}
		f := strings.Fields(string(b))
		if len(f) < 2 {
			return 0, 0, fmt.Errorf("%w: schedstat %q", ErrFormat, b)
		}
		c, err1 := strconv.ParseInt(f[0], 10, 64)
		w, err2 := strconv.ParseInt(f[1], 10, 64)
		if err1 != nil || err2 != nil {
			return 0, 0, fmt.Errorf("%w: schedstat %q", ErrFormat, b)
		}
		cpu += time.Duration(c)
		wait += time.Duration(w)
	}
	return cpu, wait, nil
}

// clockTick is USER_HZ on Linux: /proc/PID/stat counts CPU time in 10 ms ticks.
const clockTick = 10 * time.Millisecond

// Stat reads pid's process group and user+system CPU time from
// /proc/PID/stat.
func Stat(pid int) (pgrp int, cpu time.Duration, err error) {
	b, err := os.ReadFile(dir(pid) + "/stat")
	if err != nil {
		return 0, 0, err
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')') // the command may hold spaces and parentheses
	if i < 0 {
		return 0, 0, fmt.Errorf("%w: stat without ')'", ErrFormat)
	}
	f := strings.Fields(s[i+1:]) // state(0) ppid(1) pgrp(2) ... utime(11) stime(12)
	if len(f) < 13 {
		return 0, 0, fmt.Errorf("%w: stat with %d fields", ErrFormat, len(f))
	}
	pgrp, _ = strconv.Atoi(f[2])
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return pgrp, time.Duration(ut+st) * clockTick, nil
}

// Mem reads pid's resident memory and its peak (VmRSS, VmHWM, KiB) from
// /proc/PID/status.
func Mem(pid int) (rss, hwm int64, err error) {
	err = eachStatus(dir(pid)+"/status", func(k, v string) {
		n, _ := strconv.ParseInt(strings.TrimSuffix(v, " kB"), 10, 64)
		switch k {
		case "VmRSS":
			rss = n
		case "VmHWM":
			hwm = n
		}
	})
	return rss, hwm, err
}

// Switches sums the context switches (voluntary and not) of every thread
// of pid: how often it went to sleep and was woken, or was preempted.
func Switches(pid int) int64 {
	tasks, err := os.ReadDir(dir(pid) + "/task")
	if err != nil {
		return 0
	}
	var n int64
	for _, t := range tasks {
		_ = eachStatus(dir(pid)+"/task/"+t.Name()+"/status", func(k, v string) {
			if strings.HasSuffix(k, "ctxt_switches") {
				x, _ := strconv.ParseInt(v, 10, 64)
				n += x
			}
		})
	}
	return n
}

// eachStatus calls f with each "Key: value" line of a status file, the
// value trimmed.
func eachStatus(path string, f func(k, v string)) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	for _, l := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(l, ":"); ok {
			f(k, strings.TrimSpace(v))
		}
	}
	return nil
}
