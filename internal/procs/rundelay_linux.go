package procs

import (
	"bytes"
	"os"
	"strconv"
	"time"
)

// runDelay is how long the process's threads, together, have waited on
// a run queue for a CPU (the second field of each thread's
// /proc/self/task/TID/schedstat). It grows when the machine's CPUs are
// taken by others while serve has work to do.
func runDelay() (time.Duration, bool) {
	d, err := os.Open("/proc/self/task")
	if err != nil {
		return 0, false
	}
	defer d.Close()
	tids, err := d.Readdirnames(-1)
	if err != nil {
		return 0, false
	}
	var sum time.Duration
	var buf [128]byte
	for _, tid := range tids {
		n, ok := readSmall("/proc/self/task/"+tid+"/schedstat", buf[:])
		if !ok {
			continue // the thread exited meanwhile
		}
		f := bytes.Fields(buf[:n])
		if len(f) < 2 {
			return 0, false
		}
		ns, err := strconv.ParseInt(string(f[1]), 10, 64)
		if err != nil {
			return 0, false
		}
		sum += time.Duration(ns)
	}
	return sum, true
}

func readSmall(path string, buf []byte) (int, bool) {
	f, err := os.Open(path)
	if err != nil {
		return 0, false
	}
	defer f.Close()
	n, err := f.Read(buf)
	return n, err == nil
}
