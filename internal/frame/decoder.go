package frame

import (
	"bytes"
	"errors"
)

// Decoder is the streaming decoder for the serial line: COBS packets
// separated by 0x00. Feed it bytes with Write in chunks of any size; it calls
// OnPacket once per valid packet, in order. It does not follow sequence
// numbers: every valid data frame is passed on as read, and whoever
// receives them classifies gaps, duplicates and restarts (in serve, the
// channel; elsewhere a SeqTracker).
//
// The *Packet passed to OnPacket aliases the decoder's buffers and is valid
// only until the callback returns; use Packet.Clone to keep it.
//
// Memory is fixed at construction (about 130 KiB) whatever the input: runs
// longer than MaxEncodedSize are counted as Oversize and skipped without
// being buffered. A Decoder is not safe for concurrent use; one goroutine
// (the one that owns the port) feeds it.
type Decoder struct {
	OnPacket func(p *Packet)

	acc     []byte // bytes of the current run, when it spans writes
	pkt     []byte // the decoded packet
	discard int    // >0: skipping an oversize run of this many bytes so far
	p       Packet
	stats   Stats
}

// NewDecoder returns a decoder that calls onPacket for each valid packet.
func NewDecoder(onPacket func(p *Packet)) *Decoder {
	return &Decoder{
		OnPacket: onPacket,
		acc:      make([]byte, 0, MaxEncodedSize),
		pkt:      make([]byte, 0, MaxPacketSize+1),
	}
}

// Stats returns the counters so far.
func (d *Decoder) Stats() Stats { return d.stats }

// Resync drops any partial packet, as after the port was reopened: the
// bytes held so far are counted as noise.
func (d *Decoder) Resync() {
	d.stats.NoiseBytes += uint64(len(d.acc) + d.discard)
	d.acc, d.discard = d.acc[:0], 0
}

// Write feeds p to the decoder. It never fails and always consumes all of p.
func (d *Decoder) Write(p []byte) (int, error) {
	n := len(p)
	d.stats.Bytes += uint64(n)
	for len(p) > 0 {
		i := bytes.IndexByte(p, 0)
		if i < 0 {
			d.hold(p)
			break
		}
		if d.discard > 0 || len(d.acc) > 0 {
			d.hold(p[:i]) // the run began in an earlier write
			d.endHeld()
		} else {
			d.run(p[:i])
		}
		p = p[i+1:]
	}
	return n, nil
}

// endHeld finishes the run held across writes: an oversize one is counted
// and dropped, anything else decoded.
func (d *Decoder) endHeld() {
	if d.discard > 0 {
		d.stats.Oversize++
		d.stats.NoiseBytes += uint64(d.discard)
		d.discard = 0
		return
	}
	d.run(d.acc)
	d.acc = d.acc[:0]
}

// hold keeps the start of a run that continues in a later write.
func (d *Decoder) hold(p []byte) {
	if d.discard > 0 {
		d.discard += len(p)
		return
	}
	if len(d.acc)+len(p) > MaxEncodedSize {
		d.discard = len(d.acc) + len(p)
		d.acc = d.acc[:0]
		return
	}
	d.acc = append(d.acc, p...)
}

// run handles one complete run of bytes between delimiters.
func (d *Decoder) run(r []byte) {
	if len(r) == 0 {
		return
	}
	if len(r) > MaxEncodedSize {
		d.stats.Oversize++
		d.stats.NoiseBytes += uint64(len(r))
		return
	}
	var err error
	d.pkt, err = DecodeCOBS(d.pkt[:0], r)
	if err == nil {
		err = Parse(&d.p, d.pkt)
	}
	if err != nil {
		d.reject(r, err)
		return
	}
	d.stats.Packets++
	if d.p.Type == TypeData {
		d.stats.Frames++
	}
	if d.OnPacket != nil {
		d.OnPacket(&d.p)
	}
}

// reject counts a run that is not a valid packet. Runs that decode to
// something with the v1 version byte and a known type count as CRC errors or
// malformed packets; anything else is plain noise.
func (d *Decoder) reject(r []byte, err error) {
	d.stats.NoiseBytes += uint64(len(r))
	looksLikePacket := len(d.pkt) >= Overhead && d.pkt[0] == Version &&
		d.pkt[1] >= byte(TypeData) && d.pkt[1] <= byte(TypeReply)
	switch {
	case !looksLikePacket:
	case errors.Is(err, ErrCRC):
		d.stats.CRCErrors++
	default:
		d.stats.Malformed++
	}
}
