package sink

import (
	"context"

	"github.com/rs/zerolog"

	"github.com/wsbridge/wsbridge/internal/frame"
	"github.com/wsbridge/wsbridge/internal/wsproto"
)

// params are the stream's shape: what a frame's header says.
type params struct {
	Rate       uint32
	Channels   uint8
	SampleType frame.SampleType
}

// stream is the state that outlives connections: sequence accounting, the
// stream's shape, rendering. Owned by the connection loop (not safe for
// concurrent use).
type stream struct {
	o       *Options
	log     zerolog.Logger
	st      *stats
	q       *queue
	r       *renderer
	seq     frame.SeqTracker
	cur     params
	device  *wsproto.Device
	header  int // channels of the last csv header written (0: none)
	checked func(p params, bytesPerInstant float64)
	pkt     frame.Packet
}

// since is the seq to resume from and whether any frame was seen.
func (s *stream) since() (uint32, bool) { return s.seq.Next() }

// onBinary handles one binary message: a v1 data packet.
func (s *stream) onBinary(ctx context.Context, b []byte) {
	if err := frame.Parse(&s.pkt, b); err != nil || s.pkt.Type != frame.TypeData {
		s.st.badPackets.Add(1)
		s.log.Warn().Err(err).Int("bytes", len(b)).Msg("ignoring a binary message that is not a valid v1 data frame")
		return
	}
	f := &s.pkt.Frame
	ev := s.seq.Observe(f.Seq)
	switch ev.Kind {
	case frame.SeqDuplicate:
		s.st.duplicates.Add(1)
		s.log.Warn().Uint32("seq", f.Seq).Msg("dropping a duplicate frame")
		return
	case frame.SeqGap:
		s.gap(ev.From, ev.To, "sequence")
	case frame.SeqRestart:
		s.st.restarts.Add(1)
		s.log.Warn().Uint32("seq", f.Seq).Msg("device restarted its sequence numbers")
	}
	s.st.setLastSeq(f.Seq)
	c := s.r.frameChunk(&s.pkt)
	s.shape(f, len(c.data))
	s.st.frames.Add(1)
	s.st.samples.Add(uint64(f.Count))
	s.st.rateSamples.Add(uint64(f.Count))
	s.q.push(ctx, c)
}

// gap counts and logs frames From..To as never to be received.
func (s *stream) gap(from, to uint32, reason string) {
	g := GapRange{From: from, To: to, Count: uint64(to-from) + 1, Reason: reason}
	s.st.addGap(g)
	s.log.Warn().Uint32("from", from).Uint32("to", to).Uint64("frames", g.Count).Str("reason", reason).
		Msgf("gap: frames %d..%d (%d) will not be received (%s)", from, to, g.Count, gapWhy(reason))
}

func gapWhy(reason string) string {
	switch reason {
	case wsproto.GapHistory:
		return "older than serve's history: the connection was down too long"
	case wsproto.GapSlowClient:
		return "serve skipped this sink ahead: it read too slowly"
	case wsproto.GapDevice:
		return "lost between the device and serve"
	}
	return "missing from the sequence numbers"
}

// onGap accounts for a gap serve announces. Frames already accounted for
// (seen, or counted when the sequence numbers revealed them) are not
// counted again; the tracker then expects To+1, so the frame after the gap
// does not count it a second time.
func (s *stream) onGap(g wsproto.Gap) {
	next, started := s.seq.Next()
	from := g.From
	if started {
		if int32(g.To-next) < 0 {
			s.log.Debug().Uint32("from", g.From).Uint32("to", g.To).Msg("gap already accounted for")
			return
		}
		if int32(g.From-next) > 0 {
			s.gap(next, g.From-1, "sequence")
		}
		if int32(from-next) < 0 {
			from = next
		}
	}
	s.gap(from, g.To, g.Reason)
	s.seq.Expect(g.To + 1)
}

// onRestart handles a device restart status: the next frame starts a new
// count at seq, so earlier numbers are not duplicates.
func (s *stream) onRestart(st wsproto.Status) {
	s.st.restarts.Add(1)
	s.seq.Expect(st.Seq)
	s.log.Warn().Uint32("seq", st.Seq).Str("reason", st.Reason).Msg("device restarted: sequence numbers start again")
}

// shape notices a change of rate, channels or sample type, logs it, writes
// a new csv header when the channel count changes and checks the output's
// byte rate; rendered is the size of f's output.
func (s *stream) shape(f *frame.Frame, rendered int) {
	p := params{Rate: f.Rate, Channels: f.Channels, SampleType: f.SampleType}
	if p == s.cur {
		return
	}
	if s.cur != (params{}) {
		s.log.Warn().Uint32("rate", p.Rate).Uint8("channels", p.Channels).Stringer("sample_type", p.SampleType).
			Uint32("old_rate", s.cur.Rate).Uint8("old_channels", s.cur.Channels).Stringer("old_sample_type", s.cur.SampleType).
			Uint32("seq", f.Seq).Msg("stream parameters changed")
	}
	s.cur = p
	if s.o.Header && s.header != int(p.Channels) {
		s.q.push(context.Background(), s.r.headerChunk(int(p.Channels)))
		s.header = int(p.Channels)
	}
	if s.checked != nil && f.Count > 0 {
		s.checked(p, float64(rendered)/float64(f.Count))
	}
}

// onDevice takes new device info (from hello or an info message).
func (s *stream) onDevice(ctx context.Context, d *wsproto.Device) {
	if d == nil {
		return
	}
	changed := s.device == nil || !sameDevice(s.device, d)
	if !changed {
		return
	}
	if s.device != nil {
		s.log.Info().Str("name", d.Name).Uint32("rate", d.Rate).Int("channels", d.Channels).
			Str("sample_type", d.SampleType).Msg("device info changed")
	}
	s.device = d
	s.r.setNames(d)
	if c := s.r.infoChunk(d); c != nil {
		s.q.push(ctx, c)
	}
}

func sameDevice(a, b *wsproto.Device) bool {
	if a.Name != b.Name || a.Firmware != b.Firmware || a.Rate != b.Rate || a.Channels != b.Channels ||
		a.SampleType != b.SampleType || a.FrameSamples != b.FrameSamples || len(a.ChannelInfo) != len(b.ChannelInfo) {
		return false
	}
	for i := range a.ChannelInfo {
		if a.ChannelInfo[i] != b.ChannelInfo[i] {
			return false
		}
	}
	return true
}
