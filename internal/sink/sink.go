package sink

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/rs/zerolog"
)

// Sink is one running sink. Run creates it; its goroutines share it.
type Sink struct {
	o      *Options
	log    zerolog.Logger
	st     *stats
	q      *queue
	client *client
	stream *stream
	box    *portBox
	info   PortInfo
}

// Run connects to serve and writes the stream to the output port until ctx
// ends (SIGINT/SIGTERM), then closes the WebSocket with 1000, flushes the
// port (up to FlushTimeout), closes it (removing the --virtual symlink) and
// prints the summary. Network trouble never ends Run: it reconnects. It
// fails only on bad options (ErrOptions) or an output port it cannot open
// (ErrOutput).
func Run(ctx context.Context, o Options) error {
	if err := o.Validate(); err != nil {
		return err
	}
	s, err := newSink(&o)
	if err != nil {
		return err
	}
	defer s.box.close()
	fmt.Fprintln(o.Out, howToOpen(s.info, &o))
	if o.onSink != nil {
		o.onSink(s)
	}
	if o.Ready != nil {
		o.Ready(s.info)
	}
	s.run(ctx)
	s.reportDrops(time.Now(), true)
	return printSummary(o.Out, s.st.summary(s.q, time.Now()), o.JSON)
}

func newSink(o *Options) (*Sink, error) {
	c, err := newClient(o)
	if err != nil {
		return nil, err
	}
	s := &Sink{o: o, log: o.Log, st: &stats{start: time.Now()}, client: c}
	s.q = newQueue(o.Buffer, o.MaxBufferBytes, o.WhenFull)
	s.stream = &stream{o: o, log: o.Log, st: s.st, q: s.q, r: newRenderer(o), checked: s.checkBudget}
	p, info, err := openOutput(o)
	if err != nil {
		return nil, err
	}
	s.info = info
	s.box = newPortBox(p, func() (outPort, error) { p, _, err := openOutput(o); return p, err })
	return s, nil
}

// run starts the goroutines and stops them in order when ctx ends.
func (s *Sink) run(ctx context.Context) {
	wctx, cancelWriter := context.WithCancel(context.Background())
	defer cancelWriter()
	written := make(chan struct{})
	go func() { defer close(written); s.writeLoop(wctx) }()
	var wg sync.WaitGroup
	sctx, stopStatus := context.WithCancel(context.Background())
	wg.Go(func() { s.statusLoop(sctx) })
	wg.Go(func() { s.upstream(ctx) })
	s.connectLoop(ctx)
	s.flush(cancelWriter, written)
	s.box.close()
	stopStatus()
	wg.Wait()
}
