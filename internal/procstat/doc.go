// Package procstat reads what Linux's /proc says about a process: CPU
// time and run-queue wait of all its threads (Sched), its process group
// and tick-counted CPU time (Stat), its memory (Mem) and context switches
// (Switches). serve's --procs auto reads its own run-queue wait here; the
// benchmarks read the processes they measure.
//
// A pid of 0 means this process. Elsewhere than Linux every function
// returns an error (there is no /proc).
package procstat
