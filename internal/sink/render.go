package sink

import (
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/wsbridge/wsbridge/internal/frame"
	"github.com/wsbridge/wsbridge/internal/wsproto"
)

// renderer turns packets into output chunks in the chosen format. It is
// owned by the connection loop.
type renderer struct {
	format   string
	topt     frame.TextOptions
	decimate int
	skip     int // sample instants to skip before the next kept one
	one      frame.Frame
}

func newRenderer(o *Options) *renderer {
	return &renderer{format: o.Format, topt: o.textOptions(), decimate: o.Decimate}
}

// setNames sets the channel labels (plotter, csv header) from device info.
func (r *renderer) setNames(d *wsproto.Device) {
	r.topt.Names = r.topt.Names[:0]
	if d == nil {
		return
	}
	for _, c := range d.ChannelInfo {
		r.topt.Names = append(r.topt.Names, labelOf(c.Name))
	}
}

// labelOf makes a channel name safe for the plotter and csv header forms.
func labelOf(s string) string {
	return strings.Map(func(r rune) rune {
		switch r {
		case ' ', ',', ':', '\t', '\r', '\n', '"':
			return '_'
		}
		return r
	}, s)
}

// frameChunk renders the data frame in p.
func (r *renderer) frameChunk(p *frame.Packet) *chunk {
	f := &p.Frame
	c := newChunk(r.sizeHint(p))
	c.isFrame, c.seq, c.samples, c.t0 = true, f.Seq, uint64(f.Count), f.TimeUS
	if f.Count > 0 {
		c.t1 = frame.SampleTime(f, int(f.Count)-1)
	}
	if f.Rate > 0 {
		c.dur = time.Duration(f.Count) * time.Second / time.Duration(f.Rate)
	}
	switch {
	case r.format == FormatRaw:
		c.data = frame.AppendSerial(c.data, p.Raw)
	case r.decimate > 1:
		c.data = r.appendDecimated(c.data, f)
	default:
		c.data = frame.Append(c.data, frame.Format(r.format), f, &r.topt)
	}
	return c
}

// sizeHint is about what p renders to: exact for raw (COBS adds one byte
// in 254, and the delimiter), a generous guess for text (a value takes at
// most 15 characters and a separator, a timestamp 21).
func (r *renderer) sizeHint(p *frame.Packet) int {
	if r.format == FormatRaw {
		return len(p.Raw) + len(p.Raw)/254 + 2
	}
	f := &p.Frame
	perLine := int(f.Channels)*16 + 2
	if r.topt.Timestamps {
		perLine += 21
	}
	if r.format == FormatPlotter {
		perLine += int(f.Channels) * 8 // short names; longer ones grow the buffer
	}
	return (int(f.Count)/r.decimate + 1) * perLine
}

// appendDecimated renders every decimate-th sample instant of the stream,
// one instant at a time so that timestamps stay exact.
func (r *renderer) appendDecimated(dst []byte, f *frame.Frame) []byte {
	stride := int(f.Channels) * f.SampleType.Size()
	n := int(f.Count)
	i := r.skip
	for ; i < n; i += r.decimate {
		r.one = frame.Frame{Seq: f.Seq, TimeUS: frame.SampleTime(f, i), Rate: f.Rate, Channels: f.Channels,
			SampleType: f.SampleType, Count: 1, Data: f.Data[i*stride : (i+1)*stride]}
		dst = frame.Append(dst, frame.Format(r.format), &r.one, &r.topt)
	}
	r.skip = i - n
	return dst
}

// headerChunk is the csv header line for channels.
func (r *renderer) headerChunk(channels int) *chunk {
	c := newChunk(smallChunk)
	c.sticky, c.data = true, frame.AppendCSVHeader(c.data, channels, &r.topt)
	return c
}

// maxReplyLine is the longest reply text written as a '#' line; the
// device's own text lines are at most frame.MaxLineSize too.
const maxReplyLine = frame.MaxLineSize

// maxReplyPacket is the longest reply text a v1 reply packet carries.
const maxReplyPacket = frame.MaxBodySize - 1

// replyChunk is a device reply (or server error) for the port: a line
// starting with '#' in text formats, a v1 reply packet in raw. A text too
// long for either is cut, ending with a marker that says how long it was;
// cut reports that.
func (r *renderer) replyChunk(ok bool, text string) (c *chunk, cut bool) {
	c = newChunk(len(text) + 16)
	if r.format == FormatRaw {
		text, cut = truncate(text, maxReplyPacket)
		status := uint8(frame.ReplyOK)
		if !ok {
			status = frame.ReplyError
		}
		pkt, _ := frame.AppendReply(nil, status, []byte(text)) // fits: truncated to the body size
		c.data = frame.AppendSerial(c.data, pkt)
		return c, cut
	}
	word := "# ok "
	if !ok {
		word = "# err "
	}
	text, cut = truncate(strings.NewReplacer("\r", " ", "\n", " ").Replace(text), maxReplyLine-len(word)-2)
	c.data = lineEnd(append(append(c.data, word...), text...), r.topt.CRLF)
	return c, cut
}

// truncate cuts s to at most n bytes on a UTF-8 boundary, ending with
// " [truncated: N bytes]" when it was longer.
func truncate(s string, n int) (string, bool) {
	if len(s) <= n {
		return s, false
	}
	marker := fmt.Sprintf(" [truncated: %d bytes]", len(s))
	cut := n - len(marker)
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + marker, true
}

// infoChunk is a v1 device info packet for raw output, rebuilt from serve's
// description of the device; an error says why it cannot be.
func (r *renderer) infoChunk(d *wsproto.Device) (*chunk, error) {
	st, err := frame.ParseSampleType(d.SampleType)
	if err != nil {
		return nil, fmt.Errorf("sample type %q: %w", d.SampleType, err)
	}
	if d.Channels < 1 || d.Channels > 255 || d.FrameSamples < 0 || d.FrameSamples > 0xFFFF {
		return nil, fmt.Errorf("%d channels, %d frame samples: out of the v1 range", d.Channels, d.FrameSamples)
	}
	info := frame.DeviceInfo{Rate: d.Rate, Channels: uint8(d.Channels), SampleType: st,
		FrameSamples: uint16(d.FrameSamples), Name: d.Name, Firmware: d.Firmware, ChannelInfo: d.ChannelInfo}
	pkt, err := frame.AppendInfo(nil, &info)
	if err != nil {
		return nil, err
	}
	c := newChunk(len(pkt) + len(pkt)/254 + 2)
	c.data = frame.AppendSerial(c.data, pkt)
	return c, nil
}
