package sink

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"github.com/wsbridge/wsbridge/internal/ingest"
	"github.com/wsbridge/wsbridge/internal/sentinel"
	"github.com/wsbridge/wsbridge/internal/wsclient"
)

// Sink is one running sink. Run creates it; its goroutines share it.
type Sink struct {
	o      *Options
	log    zerolog.Logger
	lim    *logLimiter
	st     *stats
	q      *queue
	client *wsclient.Client
	asked  wsclient.Position // what the current connection resumed from
	stream *stream
	box    *portBox
	info   PortInfo

	dev        *ingest.Decoder // a board's messages (no hello), owned by the connection loop
	deviceMode atomic.Bool     // the current server is a board, not serve
	lastDown   time.Time       // when the last board connection ended

	flushed    uint64 // bytes the final flush wrote
	lostAtExit uint64 // frames still queued when the flush gave up
}

// Run connects to serve and writes the stream to the output port until ctx
// ends (SIGINT/SIGTERM), then closes the WebSocket with 1000, flushes the
// port (up to FlushTimeout), closes it (removing the --virtual symlink),
// logs one line saying why it stopped, what it flushed and what was lost,
// and prints the summary. Network trouble that heals never ends Run: it
// reconnects. It fails on bad options (ErrOptions), an output port it
// cannot open (ErrOutput), and, unless RetryForever, a server that will
// never accept it (an error wrapping ErrServer and wsclient.ErrWillNotHeal).
func Run(ctx context.Context, o Options) error {
	if err := o.Validate(); err != nil {
		return err
	}
	s, err := newSink(&o)
	if err != nil {
		return err
	}
	defer s.box.close()
	defer limitMemory(o.MaxBufferBytes)()
	fmt.Fprintln(o.Out, howToOpen(s.info, &o))
	if o.onSink != nil {
		o.onSink(s)
	}
	if o.Ready != nil {
		o.Ready(s.info)
	}
	runErr := s.run(ctx)
	s.reportDrops(time.Now(), true)
	s.lim.flush(s.log, 0)
	sum := s.st.summary(s.q, time.Now())
	sum.Stopped = stopReason(ctx, runErr)
	s.logStopped(sum)
	if err := printSummary(o.Out, sum, o.JSON); err != nil {
		return err
	}
	if runErr != nil {
		return sentinel.Tag(runErr, ErrServer)
	}
	return nil
}

func newSink(o *Options) (*Sink, error) {
	s := &Sink{o: o, log: o.Log, lim: newLogLimiter(), st: &stats{start: time.Now()}}
	s.q = newQueue(o.Buffer, o.MaxBufferBytes, o.MaxBufferEntries, o.WhenFull)
	o.paused = s.q.isBlocked
	c, err := wsclient.New(o.clientOptions())
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrOptions, err)
	}
	s.client = c
	if s.dev, err = ingest.NewDecoder(ingest.Options{Input: o.Input}); err != nil {
		return nil, fmt.Errorf("%w: --input: %w", ErrOptions, err)
	}
	s.q.marks, s.q.crlf = o.gapLines(), o.LineEnding == "crlf"
	s.stream = &stream{o: o, log: o.Log, lim: s.lim, st: s.st, q: s.q, r: newRenderer(o), checked: s.checkBudget,
		lines: o.gapLines()}
	p, info, err := openOutput(o)
	if err != nil {
		return nil, err
	}
	s.info = info
	s.box = newPortBox(p, func() (outPort, error) { p, _, err := openOutput(o); return p, err })
	return s, nil
}

// run starts the goroutines and stops them in order when ctx ends or the
// server will never accept the sink (that error is returned).
func (s *Sink) run(ctx context.Context) error {
	wctx, cancelWriter := context.WithCancel(context.Background())
	defer cancelWriter()
	written := make(chan struct{})
	go func() { defer close(written); s.writeLoop(wctx) }()
	var wg sync.WaitGroup
	sctx, stopStatus := context.WithCancel(context.Background())
	wg.Go(func() { s.statusLoop(sctx) })
	uctx, stopUpstream := context.WithCancel(ctx)
	wg.Go(func() { s.upstream(uctx) })
	err := s.client.Run(ctx, s)
	stopUpstream()
	s.flush(cancelWriter, written)
	s.box.close()
	stopStatus()
	wg.Wait()
	return err
}

// stopReason says why Run ends: the signal (or cancellation) or err.
func stopReason(ctx context.Context, err error) string {
	if err != nil {
		return err.Error()
	}
	// signal.NotifyContext's cause names the signal ("terminated signal
	// received"); it also matches context.Canceled, so compare identity.
	if cause := context.Cause(ctx); cause != nil && cause != context.Canceled {
		return cause.Error()
	}
	return "stopped"
}
