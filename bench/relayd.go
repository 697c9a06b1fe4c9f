//go:build linux

package main

import (
	"cmp"
	"context"
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"syscall"
	"time"

	"github.com/wsbridge/wsbridge/internal/capture"
	"github.com/wsbridge/wsbridge/internal/serve"
)

// relayd is the bench binary's hidden second mode (`-relayd`): serve.Run,
// the code behind `wsbridge serve`, in this process with runtime/pprof.
// The bench re-executes itself in this mode to profile wsbridge where it
// loses to a peer (serve has no --pprof flag), and as a stand-in when the
// wsbridge binary cannot be built.
type relaydOpts struct {
	port, listen string
	input        string
	cpuProfile   string
	heapProfile  string
	maxClients   int
	slowClient   string
	devices      []string      // --device specs: several channels instead of port
	history      time.Duration // --history; 0 for the default
}

func runRelayd(o relaydOpts) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	so := serve.DefaultOptions()
	so.Capture.Port, so.Capture.Input = o.port, cmp.Or(o.input, capture.InputFrames)
	so.Relay.Listen, so.Relay.MaxClients, so.Relay.SlowClient = o.listen, o.maxClients, o.slowClient
	so.Relay.History = cmp.Or(o.history, so.Relay.History)
	for _, spec := range o.devices {
		d, err := serve.ParseDevice(spec)
		if err != nil {
			return err
		}
		so.Devices = append(so.Devices, d)
	}
	if o.cpuProfile != "" {
		f, err := os.Create(o.cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	if o.heapProfile != "" {
		runtime.MemProfileRate = 1 << 10 // per-client objects of a few hundred bytes, attributed
		// The bench sends SIGUSR1 after the drain, while the history ring
		// and every client are still live: a heap profile at exit would
		// show nothing but what shutdown left.
		usr1 := make(chan os.Signal, 1)
		signal.Notify(usr1, syscall.SIGUSR1)
		defer signal.Stop(usr1)
		go func() {
			for range usr1 {
				writeHeap(o.heapProfile)
			}
		}()
	}
	return serve.Run(ctx, so)
}

func writeHeap(path string) {
	f, err := os.Create(path)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return
	}
	defer f.Close()
	runtime.GC()
	_ = pprof.WriteHeapProfile(f)
	// Beside it, what the heap profile does not show: goroutine stacks,
	// and the heap the runtime holds beyond the live objects.
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	_ = os.WriteFile(path+".txt", fmt.Appendf(nil,
		"goroutines %d\nheap_inuse %d\nheap_alloc %d\nheap_idle %d\nheap_released %d\nstack_inuse %d\nsys %d\nnext_gc %d\n",
		runtime.NumGoroutine(), m.HeapInuse, m.HeapAlloc, m.HeapIdle, m.HeapReleased, m.StackInuse, m.Sys, m.NextGC), 0o644)
}
