package frame

import (
	"math"
	"strconv"
)

// Format names a text rendering of frames.
type Format string

// Formats for the sink's serial output and for text WebSocket clients.
const (
	FormatCSV     Format = "csv"     // "v0,v1\n" per sample instant
	FormatPlain   Format = "plain"   // "v0 v1\n" per sample instant
	FormatPlotter Format = "plotter" // "ch0:v0,ch1:v1\n", the Arduino Serial Plotter form
	FormatJSON    Format = "json"    // one JSON object per frame
)

// TextOptions control the line-oriented renderings.
type TextOptions struct {
	CRLF       bool     // end lines with \r\n instead of \n
	Timestamps bool     // csv and plain: prefix each line with the sample's device time in µs
	Names      []string // plotter labels; channels without one are ch0, ch1, ...
}

// Append renders f in format fm. JSON ignores opt.
func Append(dst []byte, fm Format, f *Frame, opt *TextOptions) []byte {
	switch fm {
	case FormatPlain:
		return appendLines(dst, f, opt, ' ', false)
	case FormatPlotter:
		return appendLines(dst, f, opt, ',', true)
	case FormatJSON:
		return AppendJSON(dst, f)
	}
	return appendLines(dst, f, opt, ',', false)
}

// AppendCSVHeader appends the header line matching Append's csv output.
func AppendCSVHeader(dst []byte, channels int, opt *TextOptions) []byte {
	if opt.Timestamps {
		dst = append(dst, "t_us,"...)
	}
	for ch := 0; ch < channels; ch++ {
		if ch > 0 {
			dst = append(dst, ',')
		}
		dst = appendChannelName(dst, opt.Names, ch)
	}
	return appendEOL(dst, opt.CRLF)
}

func appendLines(dst []byte, f *Frame, opt *TextOptions, sep byte, labels bool) []byte {
	nch := int(f.Channels)
	for i := 0; i < int(f.Count); i++ {
		if opt.Timestamps && !labels {
			dst = strconv.AppendUint(dst, SampleTime(f, i), 10)
			dst = append(dst, sep)
		}
		for ch := 0; ch < nch; ch++ {
			if ch > 0 {
				dst = append(dst, sep)
			}
			if labels {
				dst = append(appendChannelName(dst, opt.Names, ch), ':')
			}
			dst = appendSample(dst, f, i, ch)
		}
		dst = appendEOL(dst, opt.CRLF)
	}
	return dst
}

// SampleTime is the device time in µs of sample instant i of f.
func SampleTime(f *Frame, i int) uint64 {
	if f.Rate == 0 {
		return f.TimeUS
	}
	return f.TimeUS + uint64(i)*1_000_000/uint64(f.Rate)
}

// appendChannelName appends the label of channel ch: its name, or chN if
// it has none. The plotter form labels every sample, so no string is built.
func appendChannelName(dst []byte, names []string, ch int) []byte {
	if ch < len(names) && names[ch] != "" {
		return append(dst, names[ch]...)
	}
	return strconv.AppendInt(append(dst, "ch"...), int64(ch), 10)
}

func appendEOL(dst []byte, crlf bool) []byte {
	if crlf {
		return append(dst, '\r', '\n')
	}
	return append(dst, '\n')
}

func appendSample(dst []byte, f *Frame, i, ch int) []byte {
	if f.SampleType == F32 {
		return strconv.AppendFloat(dst, f.Float(i, ch), 'g', -1, 32)
	}
	return strconv.AppendInt(dst, f.Int(i, ch), 10)
}

// AppendJSON appends f as the JSON object
//
//	{"type":"frame","seq":N,"rate":HZ,"channels":C,"sample_type":"i16","t_dev_us":N,"samples":[[ch0...],[ch1...]]}
//
// with one array of samples per channel.
func AppendJSON(dst []byte, f *Frame) []byte { return AppendJSONEpoch(dst, f, "") }

// AppendJSONEpoch is AppendJSON with the frame's epoch (the count its seq
// belongs to) as the second member, the form serve sends:
//
//	{"type":"frame","epoch":"1f0c9a2e","seq":N,...}
//
// An empty epoch is left out. epoch must need no JSON escaping (serve's
// are hex digits); other characters are dropped.
func AppendJSONEpoch(dst []byte, f *Frame, epoch string) []byte {
	dst = appendEpoch(append(dst, `{"type":"frame",`...), epoch)
	dst = append(dst, `"seq":`...)
	dst = strconv.AppendUint(dst, uint64(f.Seq), 10)
	dst = append(dst, `,"rate":`...)
	dst = strconv.AppendUint(dst, uint64(f.Rate), 10)
	dst = append(dst, `,"channels":`...)
	dst = strconv.AppendUint(dst, uint64(f.Channels), 10)
	dst = append(dst, `,"sample_type":"`...)
	dst = append(dst, f.SampleType.String()...)
	dst = append(dst, `","t_dev_us":`...)
	dst = strconv.AppendUint(dst, f.TimeUS, 10)
	dst = append(dst, `,"samples":[`...)
	for ch := 0; ch < int(f.Channels); ch++ {
		if ch > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, '[')
		for i := 0; i < int(f.Count); i++ {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendJSONSample(dst, f, i, ch)
		}
		dst = append(dst, ']')
	}
	return append(dst, "]}"...)
}

// appendEpoch appends `"epoch":"E",` unless epoch is empty, dropping
// characters that would need escaping.
func appendEpoch(dst []byte, epoch string) []byte {
	if epoch == "" {
		return dst
	}
	dst = append(dst, `"epoch":"`...)
	for i := 0; i < len(epoch); i++ {
		if c := epoch[i]; c >= 0x20 && c < 0x7f && c != '"' && c != '\\' {
			dst = append(dst, c)
		}
	}
	return append(dst, `",`...)
}

// appendJSONSample writes null for NaN and infinities, which JSON cannot carry.
func appendJSONSample(dst []byte, f *Frame, i, ch int) []byte {
	if f.SampleType == F32 {
		if v := f.Float(i, ch); math.IsNaN(v) || math.IsInf(v, 0) {
			return append(dst, "null"...)
		}
	}
	return appendSample(dst, f, i, ch)
}
