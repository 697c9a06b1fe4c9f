package bus

import (
	"context"
	"errors"
	"fmt"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/wsbridge/wsbridge/internal/wsproto"
)

// probe is one stored message and its stream sequence: ev is its last
// event (a batch of frames is found by its newest frame), all its events.
type probe struct {
	seq uint64
	ev  Event
	all []Event
}

// getter returns the first stored event at or after stream sequence seq,
// or nil when there is none.
type getter func(ctx context.Context, seq uint64) (*probe, error)

// streamGetter reads stream st with direct gets on subject.
func streamGetter(st jetstream.Stream, subject string) getter {
	return func(ctx context.Context, seq uint64) (*probe, error) {
		m, err := st.GetMsg(ctx, seq, jetstream.WithGetMsgSubject(subject))
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			return nil, nil
		}
		if err != nil {
			return nil, fmt.Errorf("failed to read message %d of %s: %w", seq, subject, err)
		}
		all, err := decodeEvents(m.Header, m.Data, nil)
		if err != nil {
			return nil, fmt.Errorf("message %d of %s: %w", m.Sequence, subject, err)
		}
		return &probe{seq: m.Sequence, ev: all[len(all)-1], all: all}, nil
	}
}

// maxRuns bounds how many epochs back locate looks for a resume's epoch.
const maxRuns = 32

// located is where a reader that wants (epoch, seq) next starts reading.
type located struct {
	seq   uint64 // stream sequence to start at; after the last when there is nothing yet
	found bool   // the epoch is still in the stream
}

// locate maps a device position (epoch, seq) to a stream sequence. An
// epoch's events are one contiguous run of the stream (one publisher at
// a time, each epoch started once), and within a run every event's seq
// never decreases, so each question is a binary search over stream
// sequences: where does the run start, and where in it is seq (events
// before the epoch's first frame, not Started, come before every seq).
// Runs are walked from the newest back, at most maxRuns.
//
// Not found (the epoch was trimmed away, or never published), the reader
// starts at the oldest event held of the newest epoch: its continuity
// check then reports the restart and any history gap, as a local resume
// from another epoch does. first..last is the stream's range now.
func locate(ctx context.Context, get getter, first, last uint64, epoch wsproto.Epoch, seq uint32) (located, error) {
	if last < first {
		return located{seq: last + 1}, nil
	}
	hi, err := get(ctx, last)
	if err != nil || hi == nil {
		return located{seq: last + 1}, err
	}
	newestStart := uint64(0)
	for range maxRuns {
		run := hi.ev.Epoch
		lo, err := search(ctx, get, first, hi.seq, func(p *probe) bool { return p.ev.Epoch == run })
		if err != nil {
			return located{}, err
		}
		if newestStart == 0 {
			newestStart = lo.seq
		}
		if run == epoch {
			if !hi.ev.Started { // the epoch's count has not begun: everything of it is wanted
				return located{seq: lo.seq, found: true}, nil
			}
			base := hi.ev.First
			at, err := search(ctx, get, lo.seq, hi.seq, func(p *probe) bool { return p.ev.Started && p.ev.Seq-base >= seq-base })
			if err != nil {
				return located{}, err
			}
			if at == nil || at.seq > hi.seq || at.ev.Epoch != run {
				return located{seq: hi.seq + 1, found: true}, nil // past the run's end
			}
			return located{seq: at.seq, found: true}, nil
		}
		if lo.seq <= first {
			break
		}
		if hi, err = lastBefore(ctx, get, first, lo.seq); err != nil || hi == nil {
			break
		}
	}
	return located{seq: newestStart}, err
}

// search returns the first event in lo..hi (stream sequences) for which
// ok holds, ok being false then true along the range; nil if none.
func search(ctx context.Context, get getter, lo, hi uint64, ok func(*probe) bool) (*probe, error) {
	var found *probe
	for lo <= hi {
		mid := lo + (hi-lo)/2
		p, err := get(ctx, mid)
		if err != nil {
			return nil, err
		}
		switch {
		case p == nil || p.seq > hi: // nothing stored in mid..hi
			if mid == lo {
				return found, nil
			}
			hi = mid - 1
		case ok(p):
			found = p
			if mid == lo {
				return found, nil
			}
			hi = mid - 1
		default: // nothing stored between mid and p, and p is not it
			lo = p.seq + 1
		}
	}
	return found, nil
}

// lastBefore returns the newest event before stream sequence seq.
func lastBefore(ctx context.Context, get getter, first, seq uint64) (*probe, error) {
	for at := seq - 1; at >= first && at < seq; {
		p, err := get(ctx, at)
		if err != nil {
			return nil, err
		}
		if p != nil && p.seq < seq {
			return p, nil
		}
		step := seq - at // a hole: look further back, doubling
		if at < first+step {
			if at == first {
				return nil, nil
			}
			at = first
		} else {
			at -= step
		}
	}
	return nil, nil
}
