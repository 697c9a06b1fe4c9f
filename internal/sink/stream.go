package sink

import (
	"context"

	"github.com/rs/zerolog"

	"github.com/wsbridge/wsbridge/internal/frame"
	"github.com/wsbridge/wsbridge/internal/wsclient"
	"github.com/wsbridge/wsbridge/internal/wsproto"
)

// params are the stream's shape: what a frame's header says.
type params struct {
	Rate       uint32
	Channels   uint8
	SampleType frame.SampleType
}

// stream is the state that outlives connections: the epoch and sequence
// accounting, the stream's shape, rendering. Owned by the connection loop
// (not safe for concurrent use).
type stream struct {
	o       *Options
	log     zerolog.Logger
	lim     *logLimiter
	st      *stats
	q       *queue
	r       *renderer
	seq     frame.SeqTracker
	epoch   wsproto.Epoch // the current count's epoch ("" from a server without epochs)
	pending *pendingRestart
	lines   bool // --gap-lines: gap and restart lines into the port
	cur     params
	device  *wsproto.Device
	header  int // channels of the last csv header written (0: none)
	checked func(p params, bytesPerInstant float64)
	pkt     frame.Packet
}

// pendingRestart is a restart counted from a hello, whose restart status
// (which names the new count's first seq) serve sends next: it is not
// counted again, and its line is written when that seq is known.
type pendingRestart struct {
	epoch wsproto.Epoch
	seq   uint32 // hello's start_seq: the line's seq if no status comes
}

// position is where the next connection resumes.
func (s *stream) position() wsclient.Position {
	next, started := s.seq.Next()
	return wsclient.Position{Seq: next, Epoch: s.epoch, Valid: started}
}

// warn is a rate-limited warning of kind (nil when suppressed).
func (s *stream) warn(kind string) *zerolog.Event {
	return s.lim.event(s.log, zerolog.WarnLevel, kind)
}

// onBinary handles one binary message: a v1 data packet.
func (s *stream) onBinary(ctx context.Context, b []byte) {
	if err := frame.Parse(&s.pkt, b); err != nil || s.pkt.Type != frame.TypeData {
		s.st.badPackets.Add(1)
		s.warn("bad_packet").Err(err).Int("bytes", len(b)).Msg("ignoring a binary message that is not a valid v1 data frame")
		return
	}
	s.onFrame(ctx, &s.pkt)
}

// onFrame accounts for data frame p and queues its rendering.
func (s *stream) onFrame(ctx context.Context, p *frame.Packet) {
	f := &p.Frame
	s.settle(ctx, f.Seq)
	exp, _ := s.seq.Next()
	ev := s.seq.Observe(f.Seq)
	switch ev.Kind {
	case frame.SeqDuplicate:
		s.st.duplicates.Add(1)
		s.warn("duplicate").Uint32("seq", f.Seq).Msg("dropping a duplicate frame")
		return
	case frame.SeqGap:
		s.gap(ctx, ev.From, ev.To, GapNetwork, s.epoch)
	case frame.SeqRestart:
		s.count(s.epoch, exp, s.epoch, f.Seq, "the frames' sequence numbers went back: the device restarted its count")
		s.pushLine(ctx, &gapLine{restart: true, from: f.Seq, epoch: s.epoch})
	}
	s.st.setLastSeq(f.Seq)
	c := s.r.frameChunk(p)
	c.epoch = s.epoch
	s.shape(f, len(c.data))
	s.st.frames.Add(1)
	s.st.samples.Add(uint64(f.Count))
	s.st.rateSamples.Add(uint64(f.Count))
	if len(c.data) == 0 { // a frame of 0 samples renders to nothing: nothing to queue
		c.release()
		return
	}
	s.q.push(ctx, c)
}

// settle writes the line of a restart counted at hello before what follows
// it, with seq (the first one received) when no restart status named it.
func (s *stream) settle(ctx context.Context, seq uint32) {
	if p := s.pending; p != nil {
		s.pending = nil
		s.pushLine(ctx, &gapLine{restart: true, from: seq, epoch: p.epoch})
	}
}

// pushLine queues a gap or restart line (--gap-lines).
func (s *stream) pushLine(ctx context.Context, g *gapLine) {
	if s.lines {
		s.q.push(ctx, lineChunk(g, s.r.topt.CRLF))
	}
}

// gap counts and logs frames From..To as never to be received, and writes
// its line.
func (s *stream) gap(ctx context.Context, from, to uint32, reason string, epoch wsproto.Epoch) {
	g := GapRange{From: from, To: to, Count: uint64(to-from) + 1, Reason: reason, Epoch: epoch}
	s.st.addGap(g)
	s.warn("gap").Uint32("from", from).Uint32("to", to).Uint64("frames", g.Count).Str("reason", reason).Str("epoch", epoch).
		Msgf("gap: frames %d..%d (%d) will not be received (%s)", from, to, g.Count, gapWhy(reason))
	s.pushLine(ctx, &gapLine{from: from, to: to, frames: g.Count, reason: reason, epoch: epoch})
}

func gapWhy(reason string) string {
	switch reason {
	case wsproto.GapHistory:
		return "older than serve's history: the connection was down too long"
	case wsproto.GapSlowClient:
		return "serve skipped this sink ahead: it read too slowly"
	case wsproto.GapDevice:
		return "lost between the device and serve"
	case wsproto.GapServeStopped:
		return "serve shut down before sending them"
	}
	return "missing from the sequence numbers: lost on the way"
}

// onGap accounts for a gap serve announces. Frames already accounted for
// (seen, or counted when the sequence numbers revealed them) are not
// counted again (frame.SeqTracker.Announced); the tracker then expects
// To+1, so the frame after the gap does not count it a second time.
func (s *stream) onGap(ctx context.Context, g wsproto.Gap) {
	s.settle(ctx, g.From)
	epoch := g.Epoch
	if epoch == "" {
		epoch = s.epoch
	}
	missed, news := s.seq.Announced(g.From, g.To)
	if news.Kind != frame.SeqGap {
		s.log.Debug().Uint32("from", g.From).Uint32("to", g.To).Msg("gap already accounted for")
		return
	}
	if missed.Kind == frame.SeqGap {
		s.gap(ctx, missed.From, missed.To, GapNetwork, epoch)
	}
	s.gap(ctx, news.From, news.To, g.Reason, epoch)
}

// onHello takes a new connection's hello: where asked was the resume
// point, a hello of another epoch (or, from a server without epochs, a
// start below the resume point) is a restart: counted and logged now,
// its line written before the frames that follow.
func (s *stream) onHello(ctx context.Context, asked wsclient.Position, h *wsproto.Hello) {
	s.pending = nil
	if r := wsclient.CheckResume(asked, h); r != nil {
		why := "serve's epoch changed: a new serve process, or the device restarted"
		if r.Why != "epoch" {
			why = "serve starts below the resume point without a new epoch: its count started over"
		}
		s.count(r.OldEpoch, r.OldSeq, r.Epoch, r.Seq, why)
		s.seq.Expect(r.Seq)
		s.pending = &pendingRestart{epoch: r.Epoch, seq: r.Seq}
		return
	}
	if h.Epoch != "" {
		s.setEpoch(h.Epoch)
	}
}

// onRestart handles a restart status: the next frame starts a new count
// at st.Seq in st.Epoch, so earlier numbers are not duplicates. The status
// that follows a restart counted at hello is not counted again.
func (s *stream) onRestart(ctx context.Context, st wsproto.Status) {
	epoch := st.Epoch
	if epoch == "" {
		epoch = s.epoch
	}
	if p := s.pending; p != nil && (st.Epoch == "" || st.Epoch == p.epoch) {
		s.pending = nil
		s.seq.Expect(st.Seq)
		s.pushLine(ctx, &gapLine{restart: true, from: st.Seq, epoch: epoch})
		return
	}
	next, _ := s.seq.Next()
	why := "the device restarted"
	if st.Reason != "" {
		why += ": " + st.Reason
	}
	s.count(s.epoch, next, epoch, st.Seq, why)
	s.seq.Expect(st.Seq)
	s.pushLine(ctx, &gapLine{restart: true, from: st.Seq, epoch: epoch})
}

// onStopping takes serve's last message before it shuts down: frames of
// this count up to st.Seq-1 that did not arrive went with the process, an
// exact gap (serve_stopped) written before whatever the next serve sends.
func (s *stream) onStopping(ctx context.Context, st wsproto.Status) {
	s.log.Info().Str("epoch", st.Epoch).Uint32("seq", st.Seq).Msg("serve is shutting down; reconnecting")
	next, started := s.seq.Next()
	if !started || (st.Epoch != "" && st.Epoch != s.epoch) || !frame.SeqBefore(next, st.Seq) {
		return
	}
	s.settle(ctx, next)
	s.gap(ctx, next, st.Seq-1, wsproto.GapServeStopped, s.epoch)
	s.seq.Expect(st.Seq)
}

// count counts and logs a new count of sequence numbers starting at seq
// in epoch (the caller moves the tracker and writes the line).
func (s *stream) count(oldEpoch wsproto.Epoch, oldSeq uint32, epoch wsproto.Epoch, seq uint32, why string) {
	s.st.restarts.Add(1)
	s.setEpoch(epoch)
	s.warn("restart").Str("old_epoch", oldEpoch).Uint32("old_seq", oldSeq).Str("epoch", epoch).Uint32("seq", seq).
		Msgf("restart: the sequence numbers started over (%s): epoch %s seq %d -> epoch %s seq %d; what follows is new data, not duplicates",
			why, orNone(oldEpoch), oldSeq, orNone(epoch), seq)
}

func (s *stream) setEpoch(e wsproto.Epoch) {
	s.epoch = e
	s.st.setEpoch(e)
}

func orNone(e string) string {
	if e == "" {
		return "(none)"
	}
	return e
}

// shape notices a change of rate, channels or sample type, logs it, writes
// a new csv header when the channel count changes and checks the output's
// byte rate; rendered is the size of f's output.
func (s *stream) shape(f *frame.Frame, rendered int) {
	p := params{Rate: f.Rate, Channels: f.Channels, SampleType: f.SampleType}
	if p == s.cur {
		return
	}
	if s.cur != (params{}) && !(s.cur.Rate == 0 && p.Channels == s.cur.Channels && p.SampleType == s.cur.SampleType) { // 0: text input measuring its rate
		s.warn("params").Uint32("rate", p.Rate).Uint8("channels", p.Channels).Stringer("sample_type", p.SampleType).
			Uint32("old_rate", s.cur.Rate).Uint8("old_channels", s.cur.Channels).Stringer("old_sample_type", s.cur.SampleType).
			Uint32("seq", f.Seq).Msg("stream parameters changed")
	}
	s.cur = p
	if s.o.Header && s.header != int(p.Channels) && p.Channels > 0 {
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
		s.lim.event(s.log, zerolog.InfoLevel, "info").Str("name", d.Name).Uint32("rate", d.Rate).Int("channels", d.Channels).
			Str("sample_type", d.SampleType).Msg("device info changed")
	}
	s.device = d
	s.r.setNames(d)
	if s.o.Format != FormatRaw {
		return
	}
	c, err := s.r.infoChunk(d)
	if err != nil {
		s.st.infoNotWritten.Add(1)
		s.warn("info_not_written").Err(err).Str("name", d.Name).Int("channels", d.Channels).Str("sample_type", d.SampleType).
			Msg("device info not written into the port: serve's description of the device does not encode as a v1 info packet (counted as info_not_written)")
		return
	}
	s.q.push(ctx, c)
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
