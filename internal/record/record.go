package record

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/wsbridge/wsbridge/internal/buildinfo"
	"github.com/wsbridge/wsbridge/internal/result"
)

func recorderName() string { return "wsbridge " + buildinfo.Get().Version }

// StreamSummary is what one URL's recording came to.
type StreamSummary struct {
	URL         string   `json:"url"`
	Files       []string `json:"files"`
	Frames      uint64   `json:"frames"`
	Samples     uint64   `json:"samples"` // recorded, fills excluded
	Gaps        uint64   `json:"gaps"`
	LostFrames  uint64   `json:"lost_frames"`
	Restarts    uint64   `json:"restarts"`
	Duplicates  uint64   `json:"duplicates"`
	Connections uint64   `json:"connections"`
	Error       string   `json:"error,omitempty"`
}

// Summary is what Run prints at exit.
type Summary struct {
	DurationS float64         `json:"duration_s"`
	Dir       string          `json:"dir"`
	Streams   []StreamSummary `json:"streams"`
}

// Run records every URL into o.Dir until ctx ends (SIGINT/SIGTERM) or,
// with Duration, until every stream has that much; then it closes every
// file (the WAV header and the sidecar final), prints the summary and
// returns. Network trouble never ends it: each stream reconnects and
// resumes where it stopped. It fails on bad options (ErrOptions) or when
// a file cannot be written (ErrOutput).
func Run(ctx context.Context, o Options) (Summary, error) {
	if err := o.Validate(); err != nil {
		return Summary{}, err
	}
	if err := os.MkdirAll(o.Dir, 0o755); err != nil {
		return Summary{}, fmt.Errorf("%w: failed to create --out %s: %w", ErrOutput, o.Dir, err)
	}
	start := time.Now()
	names := &nameSet{}
	sums := make([]StreamSummary, len(o.URLs))
	errs := make([]error, len(o.URLs))
	var wg sync.WaitGroup
	for i, u := range o.URLs {
		wg.Go(func() { sums[i], errs[i] = runStream(ctx, &o, u, names) })
	}
	wg.Wait()
	sum := Summary{DurationS: time.Since(start).Seconds(), Dir: o.Dir, Streams: sums}
	if err := printSummary(o.Out, &sum, o.JSON); err != nil {
		return sum, err
	}
	for _, err := range errs {
		if err != nil {
			return sum, err
		}
	}
	return sum, nil
}

// runStream records one URL: a connection goroutine feeds the track,
// which this goroutine owns, and a ticker flushes it.
func runStream(ctx context.Context, o *Options, rawURL string, names *nameSet) (StreamSummary, error) {
	log := o.Log.With().Str("url", safeURL(rawURL)).Logger()
	t := newTrack(o, rawURL, names, log)
	t.sum.Files = []string{}
	c, err := newConn(o, rawURL, log)
	if err != nil {
		return t.sum, err
	}
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	events := make(chan event, 256)
	go c.run(cctx, events)
	tick := time.NewTicker(o.FlushInterval)
	defer tick.Stop()
	for {
		select {
		case ev, ok := <-events:
			if !ok {
				t.stop()
				t.sum.Connections = c.connections.Load()
				if t.err == nil && c.err != nil {
					t.err = c.err // it names the URL
					t.sum.Error = c.err.Error()
				}
				t.progress(true)
				return t.sum, t.err
			}
			t.apply(&ev)
			if t.done || t.err != nil {
				cancel() // the connection ends, then events closes
			}
		case <-tick.C:
			t.flush()
			t.progress(false)
		}
	}
}

// apply hands one event from the connection to the track.
func (t *track) apply(ev *event) {
	switch {
	case ev.hello != nil:
		t.hello(ev.hello, ev.resumed)
	case ev.frame != nil:
		t.frame(ev.frame)
	case ev.gap != nil:
		t.gapMsg(ev.gap)
	case ev.status != nil:
		t.status(ev.status)
	case ev.device != nil:
		t.info(ev.device)
	}
	if t.err != nil {
		t.sum.Error = t.err.Error()
	}
}

func printSummary(w io.Writer, s *Summary, asJSON bool) error {
	return result.Print(w, asJSON, s)
}

// String is the summary for people: per stream its files, counts and error.
func (s *Summary) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "wsbridge record: %.1fs into %s\n", s.DurationS, s.Dir)
	for _, st := range s.Streams {
		fmt.Fprintf(&b, "  %s: %d files, %d frames, %d samples, %d gaps (%d frames lost), %d restarts\n",
			st.URL, len(st.Files), st.Frames, st.Samples, st.Gaps, st.LostFrames, st.Restarts)
		for _, f := range st.Files {
			fmt.Fprintf(&b, "    %s\n", f)
		}
		if st.Error != "" {
			fmt.Fprintf(&b, "    error: %s\n", st.Error)
		}
	}
	return b.String()
}
