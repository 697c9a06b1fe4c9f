package wifisim

import (
	"net"
	"strconv"

	"github.com/wsbridge/wsbridge/internal/frame"
)

// pipe is the board's "UART" between the simulated ADC and its sampler.
func pipe() (net.Conn, net.Conn) { return net.Pipe() }

// render turns a packet into the text message a text or JSON board sends:
// data as lines "v0,v1" or objects {"ch0": v0, "ch1": v1} (an array for
// several instants), replies as "# ok ..." / "# err ...", logs as "# ...".
func render(p *frame.Packet, format string, names *[]string) []byte {
	switch p.Type {
	case frame.TypeReply:
		if p.Status == frame.ReplyOK {
			return append([]byte("# ok "), p.Text...)
		}
		return append([]byte("# err "), p.Text...)
	case frame.TypeLog:
		return append([]byte("# "), p.Text...)
	case frame.TypeData:
		if format == FormatText {
			return renderText(&p.Frame)
		}
		return renderJSON(&p.Frame, names)
	}
	return nil
}

func appendValue(dst []byte, f *frame.Frame, i, c int) []byte {
	if f.SampleType == frame.F32 {
		return strconv.AppendFloat(dst, f.Float(i, c), 'f', -1, 32)
	}
	return strconv.AppendInt(dst, f.Int(i, c), 10)
}

func renderText(f *frame.Frame) []byte {
	var b []byte
	for i := 0; i < int(f.Count); i++ {
		for c := 0; c < int(f.Channels); c++ {
			if c > 0 {
				b = append(b, ',')
			}
			b = appendValue(b, f, i, c)
		}
		b = append(b, '\n')
	}
	return b
}

func renderJSON(f *frame.Frame, names *[]string) []byte {
	var b []byte
	if f.Count != 1 {
		b = append(b, '[')
	}
	for i := 0; i < int(f.Count); i++ {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '{')
		for c := 0; c < int(f.Channels); c++ {
			if c > 0 {
				b = append(b, ',')
			}
			name := "ch" + strconv.Itoa(c)
			if names != nil && c < len(*names) {
				name = (*names)[c]
			}
			b = strconv.AppendQuote(b, name)
			b = append(b, ':')
			b = appendValue(b, f, i, c)
		}
		b = append(b, '}')
	}
	if f.Count != 1 {
		b = append(b, ']')
	}
	return b
}
