package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"syscall"
	"time"

	"github.com/wsbridge/wsbridge/internal/capture"
	"github.com/wsbridge/wsbridge/internal/frame"
	"github.com/wsbridge/wsbridge/internal/relay"
)

// relayd is the bench binary's hidden second mode (`-relayd`): the same
// capture + relay wiring as `wsbridge serve`, in one process, with
// runtime/pprof. The bench re-executes itself in this mode to profile
// wsbridge where it loses to a peer (serve has no --pprof flag), and to
// stand in for serve while `wsbridge serve` does not exist yet.
type relaydOpts struct {
	port, listen  string
	cpuProfile    string
	heapProfile   string
	maxClients    int
	history       time.Duration
	slowClient    string
	profileWindow time.Duration // 0: profile the whole life
}

// relayHandler adapts capture.Handler to the relay server, as serve does.
type relayHandler struct{ s *relay.Server }

func (h relayHandler) Packet(p *frame.Packet) { h.s.Packet(p) }

func (h relayHandler) Event(e capture.Event) {
	switch e.Kind {
	case capture.DeviceUp:
		h.s.DeviceUp(e.Reason)
	case capture.DeviceDown:
		h.s.DeviceDown(e.Reason)
	}
}

func runRelayd(o relaydOpts) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ro := relay.DefaultOptions()
	ro.Listen, ro.MaxClients, ro.SlowClient = o.listen, o.maxClients, o.slowClient
	if o.history > 0 {
		ro.History = o.history
	}
	srv, err := relay.New(ro)
	if err != nil {
		return err
	}
	co := capture.DefaultOptions()
	co.Port, co.Input = o.port, capture.InputFrames
	cp, err := capture.New(co)
	if err != nil {
		return err
	}
	if _, err := srv.Listen(); err != nil {
		return err
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
	errc := make(chan error, 1)
	go func() { errc <- cp.Run(ctx, relayHandler{srv}) }()
	err = srv.Serve(ctx)
	stop()
	if cerr := <-errc; err == nil && cerr != nil && ctx.Err() == nil {
		err = cerr
	}
	if o.heapProfile != "" {
		writeHeap(o.heapProfile)
	}
	return err
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
}
