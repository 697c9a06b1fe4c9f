package record

import (
	"fmt"
	"math"
	"net/url"
	"path"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/wsbridge/wsbridge/internal/frame"
	"github.com/wsbridge/wsbridge/internal/wsproto"
)

// track records one stream: it classifies what serve sends (frames, gaps,
// restarts), opens, rotates and closes the files. Owned by the stream's
// writer goroutine (not safe for concurrent use).
type track struct {
	o     *Options
	log   zerolog.Logger
	url   string // safe for display
	names *nameSet
	name  string // file name prefix, claimed at the first file

	server, channel string
	device          *wsproto.Device
	epoch           wsproto.Epoch
	seq             frame.SeqTracker

	seg       *segment
	last      *segment      // the file closed last: gaps learnt after it, with no file to follow, go in its sidecar
	startedBy string        // why the next file starts
	pending   []GapRecord   // gaps learnt while no file was open: they go in the next file at sample 0
	toFill    []GapRecord   // --on-gap zero: gaps waiting for the next frame, which tells their length
	nextTime  uint64        // device time of the sample instant after the last one written, µs
	lastCount uint16        // sample instants in the last frame
	clock     durationClock // how much of --duration is recorded
	done      bool          // --duration reached
	sum       StreamSummary
	err       error // the first write error: recording stops
}

// nameSet hands out file name prefixes that no other stream of this run
// uses. Safe for concurrent use.
type nameSet struct {
	mu    sync.Mutex
	taken map[string]string // name -> url
}

func (n *nameSet) claim(want, url string) string {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.taken == nil {
		n.taken = map[string]string{}
	}
	name := want
	for i := 2; n.taken[name] != "" && n.taken[name] != url; i++ {
		name = fmt.Sprintf("%s-%d", want, i)
	}
	n.taken[name] = url
	return name
}

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9_.-]+`)

// wantName is the prefix a stream's files would like: the channel's name,
// else the URL path's last element (when it is not "ws"), else "stream".
func (t *track) wantName(rawURL string) string {
	if t.o.Name != "" {
		return t.o.Name // checked by Validate
	}
	n := t.channel
	if n == "" {
		if u, err := url.Parse(rawURL); err == nil {
			if b := path.Base(u.Path); b != "ws" && b != "/" && b != "." {
				n = b
			}
		}
	}
	n = strings.Trim(unsafeName.ReplaceAllString(n, "_"), "._-")
	if n == "" {
		n = "stream"
	}
	return n
}

func newTrack(o *Options, rawURL string, names *nameSet, log zerolog.Logger) *track {
	t := &track{o: o, url: safeURL(rawURL), names: names, log: log, startedBy: "start", clock: newDurationClock(o.Duration)}
	t.sum.URL = t.url
	return t
}

// hello takes serve's hello. A resumed connection to a serve whose epoch
// differs from ours is a restart (serve follows with a restart status,
// which is then ignored).
func (t *track) hello(h *wsproto.Hello, resumed bool) {
	t.server, t.device = h.Server, h.Device
	if h.Channel != "" {
		t.channel = h.Channel
	}
	switch {
	case t.epoch == "":
		t.epoch = h.Epoch
	case h.Epoch != "" && h.Epoch != t.epoch:
		t.restart(h.Epoch, h.StartSeq, "serve's epoch changed while disconnected")
	case resumed:
		if next, ok := t.seq.Next(); ok && frame.SeqBefore(h.StartSeq, next) {
			t.restart(h.Epoch, h.StartSeq, "serve starts before the resume point")
		}
	}
}

// info takes new device info.
func (t *track) info(d *wsproto.Device) { t.device = d }

// status takes a device status. A stopping status names frames serve had
// not sent when it shut down (a gap). The restart status that follows a
// hello of a new epoch was counted at the hello; it names the count's
// first seq, which a history gap may follow (the count's start is no
// longer held): the count is followed from there.
func (t *track) status(st *wsproto.Status) {
	if st.State == wsproto.StateStopping {
		next, started := t.seq.Next()
		if started && (st.Epoch == "" || st.Epoch == t.epoch) && frame.SeqBefore(next, st.Seq) {
			t.gapMsg(&wsproto.Gap{Type: wsproto.TypeGap, From: next, To: st.Seq - 1, Count: uint64(st.Seq - next),
				Reason: wsproto.GapServeStopped, Epoch: t.epoch})
		}
		return
	}
	if st.State != wsproto.StateRestart {
		return
	}
	if st.Epoch != "" && st.Epoch == t.epoch {
		t.seq.Expect(st.Seq)
		return
	}
	t.restart(st.Epoch, st.Seq, st.Reason)
}

// restart: the count starts over at seq in a new epoch. The open file
// ends (a file holds one epoch); a gap waiting to be filled is dropped
// (nothing tells its length).
func (t *track) restart(epoch wsproto.Epoch, seq uint32, reason string) {
	t.sum.Restarts++
	t.log.Warn().Str("epoch", epoch).Uint32("seq", seq).Str("reason", reason).
		Msg("the stream restarted its sequence numbers: starting a new file")
	t.addUnfilled() // the old count's: they end its file
	t.closeSeg("restart")
	t.startedBy = "restart"
	t.flushFills()
	if epoch != "" {
		t.epoch = epoch
	}
	t.seq.Expect(seq)
}

// gapMsg takes a gap serve announces. Frames already accounted for (seen,
// or counted when the sequence numbers revealed them) are not counted
// again (frame.SeqTracker.Announced).
func (t *track) gapMsg(g *wsproto.Gap) {
	missed, news := t.seq.Announced(g.From, g.To)
	if news.Kind != frame.SeqGap {
		return
	}
	if missed.Kind == frame.SeqGap {
		t.gap(missed.From, missed.To, gapNetwork, t.epoch)
	}
	epoch := g.Epoch
	if epoch == "" {
		epoch = t.epoch
	}
	t.gap(news.From, news.To, g.Reason, epoch)
}

// gap records frames from..to as lost and applies --on-gap.
func (t *track) gap(from, to uint32, reason string, epoch wsproto.Epoch) {
	g := GapRecord{From: from, To: to, Frames: uint64(to-from) + 1, Reason: reason, Epoch: epoch}
	if t.lastCount > 0 {
		n := int64(g.Frames) * int64(t.lastCount)
		g.Samples = &n
	}
	t.sum.Gaps++
	t.sum.LostFrames += g.Frames
	t.log.Warn().Uint32("from", from).Uint32("to", to).Uint64("frames", g.Frames).
		Str("reason", reason).Msgf("gap: frames %d..%d (%d) will not be recorded", from, to, g.Frames)
	switch {
	case t.seg == nil:
		t.pending = append(t.pending, g)
	case t.o.OnGap == GapZero:
		t.toFill = append(t.toFill, g)
	default:
		g.AtSample = t.seg.sc.Samples
		t.seg.addGap(g)
		if t.o.OnGap == GapSplit {
			t.closeSeg("gap")
			t.startedBy = "gap"
		}
	}
}

// flushFills records gaps waiting for a fill without filling them.
func (t *track) flushFills() {
	t.pending = append(t.pending, t.toFill...)
	t.toFill = nil
}

// frame takes one data frame.
func (t *track) frame(f *frame.Frame) {
	if t.done || t.err != nil {
		return
	}
	switch ev := t.seq.Observe(f.Seq); ev.Kind {
	case frame.SeqDuplicate:
		t.sum.Duplicates++
		return
	case frame.SeqGap:
		t.gap(ev.From, ev.To, gapNetwork, t.epoch)
	case frame.SeqRestart:
		t.restart(t.epoch, f.Seq, "the sequence numbers started again")
		t.seq.Observe(f.Seq)
	}
	if err := t.write(f); err != nil {
		t.err = err
		t.log.Error().Err(err).Msg("recording stopped")
	}
}

// write puts f in the current file, opening, rotating or filling first.
func (t *track) write(f *frame.Frame) error {
	sh := shape{rate: f.Rate, channels: f.Channels, sampleType: f.SampleType}
	if t.seg != nil {
		if why := t.rotation(sh, f); why != "" {
			t.closeSeg(why)
			t.startedBy = map[string]string{"rotate_duration": "rotate", "rotate_size": "rotate", "wav_limit": "rotate"}[why]
			if t.startedBy == "" {
				t.startedBy = why
			}
			t.flushFills()
		}
	}
	if t.seg == nil {
		if err := t.open(sh, f); err != nil {
			return err
		}
	}
	if err := t.fill(f); err != nil {
		return err
	}
	if n, done := t.clock.take(f); done {
		part := *f
		part.Count = n
		part.Data = f.Data[:part.PayloadSize()]
		f, t.done = &part, true
	}
	if f.Count == 0 && t.done { // the samples before it completed the duration
		t.closeSeg("duration")
		return nil
	}
	if err := t.seg.writeFrame(f); err != nil {
		return fmt.Errorf("%w: failed to write %s: %w", ErrOutput, t.seg.path, err)
	}
	t.sum.Frames++
	t.sum.Samples += uint64(f.Count)
	t.lastCount = f.Count
	t.nextTime = f.TimeUS
	if f.Rate > 0 {
		t.nextTime += uint64(f.Count) * 1_000_000 / uint64(f.Rate)
	}
	if t.done {
		t.closeSeg("duration")
	}
	return nil
}

// rotation says why the open file must end before f, or "".
func (t *track) rotation(sh shape, f *frame.Frame) string {
	s := t.seg
	switch {
	case s.shape != sh:
		ev := t.log.Warn()
		if settled := s.shape; settled.rate == 0 && (shape{channels: sh.channels, sampleType: sh.sampleType}) == settled {
			ev = t.log.Info() // text input announcing the rate it measured: expected
		}
		ev.Uint32("rate", sh.rate).Uint8("channels", sh.channels).
			Stringer("sample_type", sh.sampleType).Msg("the stream's format changed: starting a new file")
		return "format"
	case s.sc.Epoch != t.epoch:
		return "restart"
	case t.o.RotateEvery > 0 && s.spans(t.o.RotateEvery, f):
		return "rotate_duration"
	case t.o.rotateSize > 0 && s.w.size() >= t.o.rotateSize:
		return "rotate_size"
	case s.w.room() < int64(f.Count)+t.fillLength(f):
		return "wav_limit"
	}
	return ""
}

// fillLength is how many sample instants the gaps waiting to be filled
// span before f: from the device time when it agrees with the frame count
// (within half), else frames x frame size.
func (t *track) fillLength(f *frame.Frame) int64 {
	if len(t.toFill) == 0 {
		return 0
	}
	var byFrames int64
	for _, g := range t.toFill {
		byFrames += int64(g.Frames) * int64(t.lastCount)
	}
	if f.Rate > 0 && f.TimeUS > t.nextTime {
		byTime := int64(math.Round(float64(f.TimeUS-t.nextTime) * float64(f.Rate) / 1e6))
		if byTime*2 >= byFrames && byTime <= byFrames*2 {
			return byTime
		}
	}
	return byFrames
}

// fill writes the gaps waiting before f (--on-gap zero) and records them.
func (t *track) fill(f *frame.Frame) error {
	if len(t.toFill) == 0 {
		return nil
	}
	n := t.fillLength(f)
	at := t.seg.sc.Samples
	for i, g := range t.toFill {
		g.AtSample = at
		if i == len(t.toFill)-1 {
			g.Filled = n
			g.Samples = &n
		}
		t.seg.addGap(g)
	}
	t.toFill = nil
	t.clock.fill(n)
	if err := t.seg.fill(n, t.nextTime); err != nil {
		return fmt.Errorf("%w: failed to write %s: %w", ErrOutput, t.seg.path, err)
	}
	return nil
}

// open starts a file for frames of shape sh, f being its first.
func (t *track) open(sh shape, f *frame.Frame) error {
	if t.name == "" {
		t.name = t.names.claim(t.wantName(t.url), t.url)
	}
	now := time.Now().UTC()
	base := fmt.Sprintf("%s-%s-seq%d", t.name, now.Format("20060102T150405Z"), f.Seq)
	sc := Sidecar{URL: t.url, Server: t.server, Channel: t.channel, Device: t.device, Epoch: t.epoch,
		StartedAt: now.Format(timeFormat), StartedBy: t.startedBy, OnGap: t.o.OnGap,
		Labels: t.o.labels, Recorder: recorderName(), Gaps: t.pending}
	if sc.Gaps == nil {
		sc.Gaps = []GapRecord{}
	}
	t.pending = nil
	s, err := openSegment(t.o.Dir, base, t.formatFor(sh), sh, t.channelNames(int(sh.channels)), sc)
	if err != nil {
		return err
	}
	t.seg = s
	t.sum.Files = append(t.sum.Files, s.path)
	t.log.Info().Str("file", s.path).Str("started_by", t.startedBy).Msg("recording")
	return nil
}

// formatFor is the file format for a stream of shape sh. Frames without a
// rate (text input before it is measured) go in a CSV, which dates each
// row, even under --format wav: a WAV needs a rate.
func (t *track) formatFor(sh shape) string {
	switch {
	case sh.rate == 0:
		if t.o.Format == FormatWAV {
			t.log.Info().Msg("the stream has no rate yet (text input measuring it): this file is CSV, the WAV starts with the first frame that has a rate")
		}
		return FormatCSV
	case t.o.Format != FormatAuto:
		return t.o.Format
	case sh.sampleType != frame.U16 && sh.rate >= audioRate:
		return FormatWAV
	}
	return FormatCSV
}

// channelNames are the csv column names: the device's channel names made
// safe for a csv header, ch0, ch1, ... where it has none.
func (t *track) channelNames(n int) []string {
	names := make([]string, n)
	for i := range names {
		if t.device != nil && i < len(t.device.ChannelInfo) {
			names[i] = strings.Trim(unsafeName.ReplaceAllString(t.device.ChannelInfo[i].Name, "_"), "_")
		}
	}
	return names
}

// flush writes out the open file (data, WAV header, sidecar).
func (t *track) flush() {
	if t.seg == nil || !t.seg.dirty || t.err != nil {
		return
	}
	if err := t.seg.flush(time.Now()); err != nil {
		t.err = fmt.Errorf("%w: failed to write %s: %w", ErrOutput, t.seg.path, err)
		t.log.Error().Err(t.err).Msg("recording stopped")
	}
}

// closeSeg ends the open file, if any.
func (t *track) closeSeg(why string) {
	if t.seg == nil {
		return
	}
	s := t.seg
	t.seg, t.last = nil, s
	if err := s.close(why, time.Now()); err != nil && t.err == nil {
		t.err = err
		t.log.Error().Err(err).Msg("recording stopped")
		return
	}
	t.log.Info().Str("file", s.path).Uint64("samples", s.sc.Samples).
		Int("gaps", len(s.sc.Gaps)).Str("ended_by", why).Msg("recording closed")
}

// addUnfilled records the gaps still waiting (for a fill, or for a file)
// in the open file's sidecar, unfilled, at its end.
func (t *track) addUnfilled() {
	if t.seg == nil {
		return
	}
	for _, g := range append(t.toFill, t.pending...) {
		g.AtSample = t.seg.sc.Samples
		t.seg.addGap(g)
	}
	t.toFill, t.pending = nil, nil
}

// stop ends the recording: gaps still waiting go in the last file's
// sidecar (unfilled, at its end), then it is closed. Gaps learnt after
// the last file closed (a split, a restart, then nothing) are added to
// that file's final sidecar; only a recording that never wrote a file
// keeps them in the summary and the log alone.
func (t *track) stop() {
	t.addUnfilled()
	t.closeSeg("stop")
	t.flushFills()
	if len(t.pending) == 0 || t.last == nil || t.err != nil {
		return
	}
	sc := &t.last.sc
	for _, g := range t.pending {
		g.AtSample = sc.Samples
		sc.Gaps = append(sc.Gaps, g)
	}
	t.pending = nil
	if err := writeSidecar(t.last.sidecar, sc); err != nil {
		t.err = fmt.Errorf("%w: failed to write %s: %w", ErrOutput, t.last.sidecar, err)
		t.log.Error().Err(t.err).Msg("the last gaps are not in a sidecar")
	}
}

// gapNetwork is the reason of frames missing from the sequence numbers
// that serve did not announce (lost on the way), as the sink names them.
const gapNetwork = "network"
