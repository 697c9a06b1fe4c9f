package wsclient

import (
	"github.com/wsbridge/wsbridge/internal/frame"
	"github.com/wsbridge/wsbridge/internal/wsproto"
)

// Restart is a count of sequence numbers that started over, seen by a
// client that resumed: frames it held are not coming back, and what
// follows is new data, never duplicates.
type Restart struct {
	OldEpoch wsproto.Epoch // "" if unknown
	OldSeq   uint32        // the seq the client asked for (its next)
	Epoch    wsproto.Epoch // the current epoch ("" from an older serve)
	Seq      uint32        // the first seq of the new count the client will receive
	// Why: "epoch" (the server's epoch changed: a new serve process or a
	// restarted device) or "start_seq" (the server starts below what was
	// asked without a new epoch).
	Why string
}

// CheckResume compares the hello a server sent with where the client asked
// to resume, and returns the restart that explains a difference, or nil.
// The protocol (docs/protocol.md) answers a resume from another epoch with
// a hello of the new epoch followed by a restart status; an older serve
// sends no epoch, and a start_seq below the asked seq then means the same.
func CheckResume(asked Position, h *wsproto.Hello) *Restart {
	if !asked.Valid || h == nil {
		return nil
	}
	r := &Restart{OldEpoch: asked.Epoch, OldSeq: asked.Seq, Epoch: h.Epoch, Seq: h.StartSeq}
	switch {
	case asked.Epoch != "" && h.Epoch != "" && asked.Epoch != h.Epoch:
		r.Why = "epoch"
	case frame.SeqBefore(h.StartSeq, asked.Seq):
		r.Why = "start_seq"
	default:
		return nil
	}
	return r
}
