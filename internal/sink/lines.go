package sink

import "strconv"

// Gap reasons the sink adds to serve's (wsproto.GapDevice, GapHistory,
// GapSlowClient) in its summary, log and gap lines.
const (
	// GapNetwork: frames missing from the sequence numbers that serve did
	// not announce: lost on the way (with a board's own server, between the
	// board and the sink).
	GapNetwork = "network"
	// GapSinkDrop: frames the sink received but dropped because the port
	// did not take them in time (--buffer, --when-full).
	GapSinkDrop = "sink_drop"
)

// gapLine is a comment line written into the port in order with the data
// (--gap-lines), in the form docs/sink.md fixes and the R package reads:
//
//	# gap FROM..TO frames=N reason=R epoch=E samples=M
//	# restart epoch=E seq=S
//
// epoch= is left out when the server sent none, samples= when the sample
// instants lost are not known (only the sink's own drops know them).
type gapLine struct {
	restart     bool
	from, to    uint32 // restart: the new count's first seq in from
	frames      uint64
	samples     uint64
	withSamples bool
	reason      string
	epoch       string
}

// appendTo renders the line.
func (g *gapLine) appendTo(dst []byte, crlf bool) []byte {
	if g.restart {
		dst = append(dst, "# restart"...)
		if g.epoch != "" {
			dst = append(append(dst, " epoch="...), g.epoch...)
		}
		dst = strconv.AppendUint(append(dst, " seq="...), uint64(g.from), 10)
		return lineEnd(dst, crlf)
	}
	dst = strconv.AppendUint(append(dst, "# gap "...), uint64(g.from), 10)
	dst = strconv.AppendUint(append(dst, ".."...), uint64(g.to), 10)
	dst = strconv.AppendUint(append(dst, " frames="...), g.frames, 10)
	dst = append(append(dst, " reason="...), g.reason...)
	if g.epoch != "" {
		dst = append(append(dst, " epoch="...), g.epoch...)
	}
	if g.withSamples {
		dst = strconv.AppendUint(append(dst, " samples="...), g.samples, 10)
	}
	return lineEnd(dst, crlf)
}

func lineEnd(dst []byte, crlf bool) []byte {
	if crlf {
		dst = append(dst, '\r')
	}
	return append(dst, '\n')
}

// merge makes g cover o as well when o continues it: two gap lines of the
// same reason and epoch with nothing between them.
func (g *gapLine) merge(o *gapLine) bool {
	if g.restart || o.restart || g.reason != o.reason || g.epoch != o.epoch || g.to+1 != o.from {
		return false
	}
	g.to = o.to
	g.frames += o.frames
	g.samples += o.samples
	g.withSamples = g.withSamples && o.withSamples
	return true
}

// extend makes sink_drop line x cover dropped frame c when c follows it.
func (x *chunk) extend(c *chunk) bool {
	g := x.line
	if g == nil || g.reason != GapSinkDrop || g.epoch != c.epoch || g.to+1 != c.seq {
		return false
	}
	g.to = c.seq
	g.frames++
	g.samples += c.samples
	return true
}

// newMark is the sink_drop line for dropped frame c.
func newMark(c *chunk, crlf bool) *chunk {
	return lineChunk(&gapLine{from: c.seq, to: c.seq, frames: 1, samples: c.samples, withSamples: true,
		reason: GapSinkDrop, epoch: c.epoch}, crlf)
}

// lineChunk is a sticky chunk holding line g.
func lineChunk(g *gapLine, crlf bool) *chunk {
	return &chunk{line: g, sticky: true, data: g.appendTo(make([]byte, 0, 96), crlf)}
}
