package frametest

import "github.com/wsbridge/wsbridge/internal/frame"

// Collector keeps what a receiver sees of a decoded stream: its Packet
// method, given to frame.NewDecoder, keeps a copy of every packet and the
// seq events other than in order (gaps, duplicates, restarts) of the data
// frames among them, classified as they arrive (the decoder hands frames
// on as read; a receiver follows their seqs). Not safe for concurrent
// use: the decoder calls it from Write.
type Collector struct {
	Packets []frame.Packet
	Events  []frame.SeqEvent
	seq     frame.SeqTracker
}

// Packet keeps p and classifies its seq if it is a data frame.
func (c *Collector) Packet(p *frame.Packet) {
	c.Packets = append(c.Packets, p.Clone())
	if p.Type != frame.TypeData {
		return
	}
	if ev := c.seq.Observe(p.Frame.Seq); ev.Kind >= frame.SeqGap {
		c.Events = append(c.Events, ev)
	}
}
