package wsclient

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/wsbridge/wsbridge/internal/periodic"
)

// Client connects to one stream. See the package doc for its concurrency
// contract.
type Client struct {
	o      Options
	http   *http.Client
	header http.Header
	cur    atomic.Pointer[Conn]
}

// New checks o (the CA file is read now) and returns a Client.
func New(o Options) (*Client, error) {
	o.fill()
	hc, err := trustCA(o.CACert, o.TLS)
	if err != nil {
		return nil, err
	}
	return &Client{o: o, http: hc, header: header(o.Token)}, nil
}

// Handler is what Run drives: it says where to resume and consumes each
// connection.
type Handler interface {
	// Resume is where the next connection starts.
	Resume() Position
	// Serve reads c (c.Read) until it fails and returns that error (or
	// nil when ctx ended). Run closes c afterwards. An error wrapping
	// ErrWillNotHeal (a *Error with a Kind) ends Run as a failed dial does.
	Serve(ctx context.Context, c *Conn) error
}

// Dial connects once, resuming from pos. Cancelling ctx later closes the
// connection with status 1000.
func (c *Client) Dial(ctx context.Context, pos Position) (*Conn, error) {
	return c.dial(ctx, ResumeURL(c.o.URL, c.o.Format, pos))
}

// Current is the open connection, or nil between connections.
func (c *Client) Current() *Conn { return c.cur.Load() }

// ErrNotConnected is returned by Send between connections.
var ErrNotConnected = errors.New("not connected")

// Send writes v as JSON on the current connection.
func (c *Client) Send(ctx context.Context, v any) error {
	cn := c.cur.Load()
	if cn == nil {
		return ErrNotConnected
	}
	return cn.WriteJSON(ctx, v)
}

// Run connects and reconnects, with backoff, until ctx ends (then it
// returns nil) or an attempt fails with an error that will not heal (it
// returns that error, wrapping ErrWillNotHeal; with RetryForever it logs
// it once and keeps trying).
func (c *Client) Run(ctx context.Context, h Handler) error {
	bo := Backoff{Min: c.o.BackoffMin, Max: c.o.BackoffMax}
	var r retryLog
	for ctx.Err() == nil {
		cn, err := c.Dial(ctx, h.Resume())
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			if Permanent(err) && !c.o.RetryForever {
				return err
			}
			r.failed(&c.o, err, bo.Next(), ctx)
			continue
		}
		c.cur.Store(cn)
		err = h.Serve(ctx, cn)
		c.cur.Store(nil)
		cn.CloseNow()
		if ctx.Err() != nil {
			return nil
		}
		if Permanent(err) && !c.o.RetryForever {
			return err
		}
		lasted := time.Since(cn.Opened)
		if lasted >= c.o.HealthyAfter {
			bo.Reset()
		}
		r.disconnected(&c.o, err, lasted, bo.Next(), ctx)
	}
	return nil
}

// retryLog says why the client waits: "cannot connect" for an attempt
// that never opened, "disconnected" only after a connection. The same
// failure again is logged at debug level except the first two and every
// tenth; an error that will not heal (RetryForever) is an error once.
type retryLog struct {
	last     string
	repeats  int
	attempts int
}

func (r *retryLog) failed(o *Options, err error, d time.Duration, ctx context.Context) {
	r.attempts++
	msg := err.Error()
	if msg == r.last {
		r.repeats++
	} else {
		r.last, r.repeats = msg, 0
	}
	ev := o.Log.Warn()
	switch {
	case Permanent(err) && r.repeats == 0:
		ev = o.Log.Error()
		msg += " (this will not heal by itself; retrying anyway: --retry-forever)"
	case r.repeats >= 2 && r.repeats%10 != 0:
		ev = o.Log.Debug()
	}
	ev.Int("attempt", r.attempts).Dur("retry_in", d.Round(time.Millisecond)).Msgf("cannot connect: %s", msg)
	periodic.Sleep(ctx, d)
}

func (r *retryLog) disconnected(o *Options, err error, lasted, d time.Duration, ctx context.Context) {
	r.attempts, r.last, r.repeats = 0, "", 0
	why := "closed"
	if err != nil {
		why = err.Error()
	}
	o.Log.Warn().Dur("connected_for", lasted.Round(time.Millisecond)).Dur("retry_in", d.Round(time.Millisecond)).
		Msg(fmt.Sprintf("disconnected after %s: %s; reconnecting", lasted.Round(time.Millisecond), why))
	periodic.Sleep(ctx, d)
}
