package bus

import (
	"encoding/binary"
	"fmt"
	"strconv"
	"strings"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/wsbridge/wsbridge/internal/source"
)

// How an event is stored: a message whose body is the event's Raw packet
// (frames, info, log, reply) or empty, or for a batch the frames' records
// (newBatchMsg), named by Nats-Msg-Id (msgID) and described by headers.
//
// Format 2 (written since 2026-12) describes the event in one header,
//
//	Wsbridge-Event: KIND EPOCH SEQ [first=N] [from=N] [frames=N]
//
// (first: the epoch's first seq, absent before the epoch's first frame;
// from: gaps only; frames: a batch of N frames) plus Wsbridge-Reason when
// the event has one. A frame's message has three headers in all, with
// Nats-Msg-Id and Nats-Expected-Last-Sequence: every node that stores,
// sends or receives it parses each one.
//
// Format 1 (the first streams) had one header per field: Wsbridge-Kind,
// -Epoch, -First, -Seq, -From, -Reason, -Frames. It is still read, so a
// stream written by an older serve resumes and replays as before.
const (
	hdrEvent  = "Wsbridge-Event"
	hdrReason = "Wsbridge-Reason"

	// format 1
	hdrKind   = "Wsbridge-Kind"
	hdrEpoch  = "Wsbridge-Epoch"
	hdrFirst  = "Wsbridge-First"
	hdrSeq    = "Wsbridge-Seq"
	hdrFrom   = "Wsbridge-From"
	hdrFrames = "Wsbridge-Frames"
)

// msgID names an event for JetStream's de-duplication: a frame is its
// (epoch, seq); any other event adds its kind and its position in the
// origin channel's log, which a retry reads again unchanged. A new epoch
// (new serve process, device restart) never reuses a name.
func msgID(ev *Event, pos uint64) string {
	if ev.Kind == KindFrame {
		return ev.Epoch + "." + strconv.FormatUint(uint64(ev.Seq), 10)
	}
	return ev.Epoch + "." + strconv.FormatUint(uint64(ev.Seq), 10) + "." + ev.Kind.String() + "." + strconv.FormatUint(pos, 10)
}

// lostID names a gap the publisher makes for events that left the
// origin's log before they were published; pos is the event after them.
func lostID(ev *Event, pos uint64) string {
	return ev.Epoch + "." + strconv.FormatUint(uint64(ev.Seq), 10) + ".lost." + strconv.FormatUint(pos, 10)
}

// newMsg encodes ev for subject, named id. The stream stores it only as
// the message after stream sequence after (the
// publisher predicts the sequence of each message it pipelines), so a
// retry after an outage can never store events out of order.
//
// Not Nats-Expected-Last-Msg-Id: nats-server 2.15 checks it only when a
// replicated stream applies the message, and a mismatch there (a
// pipelined message after one lost in a leader change) is a "critical
// write error" that stalls the stream for good. The expected sequence is
// checked before the message is proposed.
func newMsg(subject string, ev *Event, id string, after uint64) *nats.Msg {
	return eventMsg(subject, ev, id, after, 0)
}

// eventMsg encodes ev (frames > 0: the last frame of a batch of that
// many) in format 2.
func eventMsg(subject string, ev *Event, id string, after uint64, frames int) *nats.Msg {
	h := nats.Header{
		jetstream.MsgIDHeader:           {id},
		jetstream.ExpectedLastSeqHeader: {strconv.FormatUint(after, 10)},
		hdrEvent:                        {eventHeader(ev, frames)},
	}
	if ev.Reason != "" {
		h[hdrReason] = []string{ev.Reason}
	}
	return &nats.Msg{Subject: subject, Header: h, Data: ev.Raw}
}

// eventHeader is the value of Wsbridge-Event for ev.
func eventHeader(ev *Event, frames int) string {
	b := make([]byte, 0, 64)
	b = append(b, ev.Kind.String()...)
	b = append(b, ' ')
	b = append(b, ev.Epoch...)
	b = append(b, ' ')
	b = strconv.AppendUint(b, uint64(ev.Seq), 10)
	if ev.Started {
		b = append(b, " first="...)
		b = strconv.AppendUint(b, uint64(ev.First), 10)
	}
	if ev.Kind == KindGap {
		b = append(b, " from="...)
		b = strconv.AppendUint(b, uint64(ev.From), 10)
	}
	if frames > 0 {
		b = append(b, " frames="...)
		b = strconv.AppendUint(b, uint64(frames), 10)
	}
	return string(b)
}

// decodeEvent reads an event back from a stored message's headers and
// data (either format); frames is the size of its batch (0: not a batch).
func decodeEvent(h nats.Header, data []byte) (ev Event, frames int, err error) {
	if v, ok := h[hdrEvent]; ok && len(v) > 0 {
		ev, frames, err = parseEventHeader(v[0])
	} else {
		ev, frames, err = decodeEventV1(h)
	}
	if err != nil {
		return ev, 0, err
	}
	if v := h[hdrReason]; len(v) > 0 {
		ev.Reason = v[0]
	}
	ev.Raw = data
	return ev, frames, nil
}

// parseEventHeader reads a Wsbridge-Event value.
func parseEventHeader(v string) (ev Event, frames int, err error) {
	bad := func(why string) (Event, int, error) {
		return ev, 0, fmt.Errorf("%w: header %s %q: %s", ErrBadMessage, hdrEvent, v, why)
	}
	kind, rest, _ := strings.Cut(v, " ")
	k, ok := source.ParseEventKind(kind)
	if !ok {
		return bad("unknown kind")
	}
	ev.Kind = k
	ev.Epoch, rest, _ = strings.Cut(rest, " ")
	if ev.Epoch == "" {
		return bad("no epoch")
	}
	seq, rest, _ := strings.Cut(rest, " ")
	if ev.Seq, ok = parseU32(seq); !ok {
		return bad("bad seq")
	}
	hasFrom := false
	for rest != "" {
		var f string
		f, rest, _ = strings.Cut(rest, " ")
		name, val, _ := strings.Cut(f, "=")
		n, ok := parseU32(val)
		switch {
		case !ok:
			return bad("bad " + name)
		case name == "first":
			ev.Started, ev.First = true, n
		case name == "from":
			ev.From, hasFrom = n, true
		case name == "frames":
			if n == 0 {
				return bad("a batch of no frames")
			}
			frames = int(n)
		} // other fields: added by a later serve, not needed to read this one
	}
	if k == KindGap && !hasFrom {
		return bad("a gap without from")
	}
	if frames > 0 && (k != KindFrame || !ev.Started) {
		return bad("a batch must be of frames with a first seq")
	}
	return ev, frames, nil
}

func parseU32(s string) (uint32, bool) {
	v, err := strconv.ParseUint(s, 10, 32)
	return uint32(v), err == nil
}

// decodeEventV1 reads format 1's headers.
func decodeEventV1(h nats.Header) (ev Event, frames int, err error) {
	ev.Epoch = h.Get(hdrEpoch)
	k, ok := source.ParseEventKind(h.Get(hdrKind))
	if !ok || ev.Epoch == "" {
		return ev, 0, fmt.Errorf("%w: kind %q epoch %q", ErrBadMessage, h.Get(hdrKind), ev.Epoch)
	}
	ev.Kind = k
	if _, ev.Started = h[hdrFirst]; ev.Started {
		if ev.First, err = headerU32(h, hdrFirst); err != nil {
			return ev, 0, err
		}
	}
	if ev.Seq, err = headerU32(h, hdrSeq); err != nil {
		return ev, 0, err
	}
	if k == KindGap {
		if ev.From, err = headerU32(h, hdrFrom); err != nil {
			return ev, 0, err
		}
	}
	if nv := h.Get(hdrFrames); nv != "" {
		n, err := strconv.Atoi(nv)
		if err != nil || n < 1 || k != KindFrame || !ev.Started {
			return ev, 0, fmt.Errorf("%w: header %s %q on a %s", ErrBadMessage, hdrFrames, nv, k)
		}
		frames = n
	}
	return ev, frames, nil
}

func headerU32(h nats.Header, name string) (uint32, error) {
	v, err := strconv.ParseUint(h.Get(name), 10, 32)
	if err != nil {
		return 0, fmt.Errorf("%w: header %s %q", ErrBadMessage, name, h.Get(name))
	}
	return uint32(v), nil
}

// batchable reports whether ev may join a batch whose first frame is
// head: frames of one epoch, counted from the same first seq.
func batchable(head, ev *Event) bool {
	return ev.Kind == KindFrame && ev.Started && ev.Epoch == head.Epoch && ev.First == head.First
}

// newBatchMsg encodes frames evs (2 or more, batchable with evs[0]) as one
// message: its headers describe the last frame, as newMsg would (so a
// lookup by device position and the publisher's resync read it as that
// frame's message), with frames=N; its body is N records of
// [seq u32][length u32][v1 packet], little-endian. One stored message
// per batch instead of one per frame: the servers' work, the acks and
// the deliveries are per message.
func newBatchMsg(subject string, evs []Event, id string, after uint64) *nats.Msg {
	size := 0
	for i := range evs {
		size += 8 + len(evs[i].Raw)
	}
	body := make([]byte, 0, size)
	for i := range evs {
		body = binary.LittleEndian.AppendUint32(body, evs[i].Seq)
		body = binary.LittleEndian.AppendUint32(body, uint32(len(evs[i].Raw)))
		body = append(body, evs[i].Raw...)
	}
	m := eventMsg(subject, &evs[len(evs)-1], id, after, len(evs))
	m.Data = body
	return m
}

// decodeEvents appends the events of a stored message to dst: one, or
// the frames of a batch. Raw slices point into data.
func decodeEvents(h nats.Header, data []byte, dst []Event) (out []Event, err error) {
	base := len(dst)
	defer func() {
		if err != nil {
			out = dst[:base]
		}
	}()
	ev, n, err := decodeEvent(h, data)
	if err != nil {
		return dst, err
	}
	if n == 0 {
		return append(dst, ev), nil
	}
	for i := range n {
		if len(data) < 8 {
			return dst, fmt.Errorf("%w: batch of %d frames ends at frame %d", ErrBadMessage, n, i)
		}
		seq, size := binary.LittleEndian.Uint32(data), binary.LittleEndian.Uint32(data[4:])
		data = data[8:]
		if uint64(size) > uint64(len(data)) {
			return dst, fmt.Errorf("%w: frame %d of a batch claims %d bytes, %d left", ErrBadMessage, i, size, len(data))
		}
		f := ev
		f.Seq, f.Raw, data = seq, data[:size:size], data[size:]
		dst = append(dst, f)
	}
	if len(data) > 0 || dst[len(dst)-1].Seq != ev.Seq {
		return dst, fmt.Errorf("%w: batch of %d frames does not end with frame %d", ErrBadMessage, n, ev.Seq)
	}
	return dst, nil
}
