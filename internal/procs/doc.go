// Package procs sets how many OS threads run Go code at once
// (GOMAXPROCS) for serve: one while serve is light, every CPU once it is
// busy.
//
// Why: at sensor rates (a 48 kHz stream is 100 frames/s) serve spends
// almost all its time asleep, and each frame wakes one goroutine per
// client. With several Ps the runtime hands those goroutines to a second
// thread, waking it on another CPU. On virtual machines that wake-up is
// costly and sometimes slow: measured on a 2-CPU VM, publish to client
// receive at 1000 frames/s had a p99 of 1 to 4 ms with two Ps and 0.2 ms
// with one, and serve at 48 kHz with 3 clients used a third more CPU.
// Flat out (many clients, tens of MB/s) the second CPU doubles the
// fan-out, so the policy raises GOMAXPROCS once the one thread runs or
// waits to run (for a CPU other processes hold: two threads then get
// serve a larger share) 95 % of a quarter second or 70 % of two in a row,
// and lowers it after serve has stayed under 45 % of a core for ten
// seconds (see policy). Until then one P is cheaper: 100 Wi-Fi boards at
// 16 kHz, each with a subscriber, cost serve 32 % of a core with one P
// and 37 % with two in the same run.
//
// Entry points: Parse checks a --procs value ("auto" or a count); Adapt
// applies it for as long as its context lasts and then restores the
// runtime's own setting. A GOMAXPROCS environment variable is the user's
// explicit choice: "auto" then leaves the runtime alone.
package procs
