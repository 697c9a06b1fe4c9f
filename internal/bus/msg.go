package bus

import (
	"encoding/binary"
	"fmt"
	"strconv"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/wsbridge/wsbridge/internal/source"
)

// Headers of every event message. The body is the event's Raw packet
// (frames, info, log, reply) or empty.
const (
	hdrKind   = "Wsbridge-Kind"
	hdrEpoch  = "Wsbridge-Epoch"
	hdrFirst  = "Wsbridge-First" // first seq of the epoch; absent before the epoch's first frame
	hdrSeq    = "Wsbridge-Seq"
	hdrFrom   = "Wsbridge-From" // gaps only
	hdrReason = "Wsbridge-Reason"
	hdrFrames = "Wsbridge-Frames" // a batch: the body holds this many frames (see newBatchMsg)
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
	h := nats.Header{
		jetstream.MsgIDHeader: {id},
		hdrKind:               {ev.Kind.String()},
		hdrEpoch:              {ev.Epoch},
		hdrSeq:                {strconv.FormatUint(uint64(ev.Seq), 10)},
	}
	if ev.Started {
		h[hdrFirst] = []string{strconv.FormatUint(uint64(ev.First), 10)}
	}
	h[jetstream.ExpectedLastSeqHeader] = []string{strconv.FormatUint(after, 10)}
	if ev.Kind == KindGap {
		h[hdrFrom] = []string{strconv.FormatUint(uint64(ev.From), 10)}
	}
	if ev.Reason != "" {
		h[hdrReason] = []string{ev.Reason}
	}
	return &nats.Msg{Subject: subject, Header: h, Data: ev.Raw}
}

// decodeEvent reads an event back from a stored message's headers and data.
func decodeEvent(h nats.Header, data []byte) (Event, error) {
	ev := Event{Epoch: h.Get(hdrEpoch), Reason: h.Get(hdrReason), Raw: data}
	k, ok := source.ParseEventKind(h.Get(hdrKind))
	if !ok || ev.Epoch == "" {
		return ev, fmt.Errorf("%w: kind %q epoch %q", ErrBadMessage, h.Get(hdrKind), ev.Epoch)
	}
	ev.Kind = k
	var err error
	if _, ev.Started = h[hdrFirst]; ev.Started {
		if ev.First, err = headerU32(h, hdrFirst); err != nil {
			return ev, err
		}
	}
	if ev.Seq, err = headerU32(h, hdrSeq); err != nil {
		return ev, err
	}
	if k == KindGap {
		if ev.From, err = headerU32(h, hdrFrom); err != nil {
			return ev, err
		}
	}
	return ev, nil
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
// frame's message), plus Wsbridge-Frames: N; its body is N records of
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
	m := newMsg(subject, &evs[len(evs)-1], id, after)
	m.Header[hdrFrames] = []string{strconv.Itoa(len(evs))}
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
	ev, err := decodeEvent(h, data)
	if err != nil {
		return dst, err
	}
	nv := h.Get(hdrFrames)
	if nv == "" {
		return append(dst, ev), nil
	}
	n, err := strconv.Atoi(nv)
	if err != nil || n < 1 || ev.Kind != KindFrame || !ev.Started {
		return dst, fmt.Errorf("%w: header %s %q on a %s", ErrBadMessage, hdrFrames, nv, ev.Kind)
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
