// Package pollio reads and writes non-blocking descriptors that the Go
// runtime's network poller already watches (an *os.File opened
// O_NONBLOCK, a *net.TCPConn), with raw system calls on Linux.
//
// Why: every ordinary system call from Go (syscall.Read, syscall.Write)
// passes through the scheduler's entersyscall, which wakes the runtime's
// monitor thread (sysmon) if it was asleep because the process was idle.
// serve idles between frames, so at 100 to 1000 frames/s each frame woke
// sysmon, which then polled every 20 µs for a while: several thread
// switches per frame, most of serve's CPU at a 48 kHz stream. A read or
// write on a non-blocking descriptor never blocks, so it needs no
// entersyscall; the poller still parks the goroutine when the descriptor
// is not ready, and deadlines and Close work as usual.
//
// Entry points: New wraps a syscall.RawConn (from SyscallConn); its Read
// and Write are the raw, allocation-free calls; TryRead reads without
// waiting and WaitReadable waits without reading (wsconn's idle reader).
// The package is Linux-only; elsewhere callers use the descriptor's own
// Read and Write.
package pollio
