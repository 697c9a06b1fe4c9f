package adcsim

import (
	"strconv"
	"strings"

	"github.com/wsbridge/wsbridge/internal/buildinfo"
	"github.com/wsbridge/wsbridge/internal/frame"
)

// appendEncoded appends f as it goes on the wire: a COBS-framed packet
// with its 0x00, or one text line per sample instant.
func (d *Device) appendEncoded(dst []byte, f *frame.Frame) ([]byte, error) {
	if d.text {
		return appendText(dst, f, d.labels), nil
	}
	var err error
	if d.pkt, err = frame.AppendFrame(d.pkt[:0], f); err != nil {
		return dst, err
	}
	return frame.AppendSerial(dst, d.pkt), nil
}

// appendText renders f as "v0,v1,...\n" per sample instant; a single
// channel is just the number. With labels (the plotter wire) each value
// follows its label: "sine0:v0,sine1:v1\n". f32 is printed without an
// exponent.
func appendText(dst []byte, f *frame.Frame, labels []string) []byte {
	nch := int(f.Channels)
	for i := 0; i < int(f.Count); i++ {
		for c := 0; c < nch; c++ {
			if c > 0 {
				dst = append(dst, ',')
			}
			if c < len(labels) {
				dst = append(dst, labels[c]...)
			}
			if f.SampleType == frame.F32 {
				dst = strconv.AppendFloat(dst, f.Float(i, c), 'f', -1, 32)
			} else {
				dst = strconv.AppendInt(dst, f.Int(i, c), 10)
			}
		}
		dst = append(dst, '\n')
	}
	return dst
}

// plotterLabels are the plotter wire's "name:" prefixes: the signal's
// kind and the channel, as a sketch would name its series (sine0, sine1).
func plotterLabels(cfg Config) []string {
	kind, _, _ := strings.Cut(cfg.Signal, ":")
	out := make([]string, cfg.Channels)
	for c := range out {
		out[c] = kind + strconv.Itoa(c) + ":"
	}
	return out
}

// Info is the device info packet the device sends at start, after a
// re-attach, after a rate change and on the info command.
func (d *Device) Info() frame.DeviceInfo {
	info := frame.DeviceInfo{Rate: d.rate, Channels: uint8(d.cfg.Channels), SampleType: d.st,
		FrameSamples: uint16(d.fs), Name: d.cfg.Name, Firmware: firmware()}
	unit := "counts"
	if d.st == frame.F32 {
		unit = "FS"
	}
	for c := 0; c < d.cfg.Channels; c++ {
		info.ChannelInfo = append(info.ChannelInfo, frame.Channel{Name: "ch" + strconv.Itoa(c), Unit: unit})
	}
	return info
}

// firmware is the version the simulated device reports: wsbridge's own.
func firmware() string { return buildinfo.Get().Version } // "dev" when unstamped

// appendInfo queues the info packet (frames wire) or an info line
// starting with "#" (text wire).
func (d *Device) appendInfo() {
	info := d.Info()
	if d.text {
		line := "# info name=" + info.Name + " firmware=" + info.Firmware +
			" rate=" + strconv.Itoa(int(info.Rate)) + " channels=" + strconv.Itoa(int(info.Channels)) +
			" sample_type=" + info.SampleType.String() + " frame_samples=" + strconv.Itoa(int(info.FrameSamples)) +
			" signal=" + d.cfg.Signal + "\n"
		d.appendOther([]byte(line))
		return
	}
	var err error
	if d.pkt, err = frame.AppendInfo(d.pkt[:0], &info); err == nil {
		d.appendOther(frame.AppendSerial(nil, d.pkt))
	}
}

// appendReply queues a command reply: a reply packet, or "# ok text" /
// "# err text" on the text wire.
func (d *Device) appendReply(ok bool, text string) {
	if d.text {
		prefix := "# ok "
		if !ok {
			prefix = "# err "
		}
		d.appendOther([]byte(prefix + text + "\n"))
		return
	}
	status := uint8(frame.ReplyOK)
	if !ok {
		status = frame.ReplyError
	}
	var err error
	if d.pkt, err = frame.AppendReply(d.pkt[:0], status, []byte(text)); err == nil {
		d.appendOther(frame.AppendSerial(nil, d.pkt))
	}
}
