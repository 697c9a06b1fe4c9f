package sink

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/wsbridge/wsbridge/internal/result"
)

// incidentQuiet is how long without drops ends a drop incident.
const incidentQuiet = time.Second

// statusLoop reports drop incidents, redraws the live line and logs the
// periodic status. It returns when ctx ends.
func (s *Sink) statusLoop(ctx context.Context) {
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	lastLog, lastRate := time.Now(), time.Now()
	var rate float64
	for {
		select {
		case <-ctx.Done():
			s.clearLive()
			return
		case now := <-tick.C:
			s.reportDrops(now, false)
			s.lim.flush(s.log, 5*time.Second)
			if el := now.Sub(lastRate); el >= time.Second {
				rate = float64(s.st.rateSamples.Swap(0)) / el.Seconds()
				lastRate = now
			}
			if s.o.Live != nil {
				s.drawLive(now, rate)
			} else if s.o.StatusInterval > 0 && now.Sub(lastLog) >= s.o.StatusInterval {
				s.logStatus(now, rate)
				lastLog = now
			}
		}
	}
}

// reportDrops logs the start and the end of drop incidents.
func (s *Sink) reportDrops(now time.Time, final bool) {
	started, ended := s.q.incidentReport(now, incidentQuiet, final)
	if started != nil && ended == nil {
		s.log.Warn().Str("policy", s.o.WhenFull).Uint32("first_seq", started.Ranges[0].From).
			Msg("output buffer full: the port is not read fast enough (or not at all); dropping data")
	}
	if ended != nil {
		s.st.addDropRanges(ended.Ranges)
		s.log.Warn().Str("policy", s.o.WhenFull).Uint64("frames", ended.Frames).Uint64("samples", ended.Samples).
			Str("seq_ranges", ended.RangeText()).Uint64("t_dev_us_from", ended.T0).Uint64("t_dev_us_to", ended.T1).
			Dur("lasted", ended.End.Sub(ended.Start)).
			Msgf("dropped %d frames (%d samples) that the port could not take: seq %s", ended.Frames, ended.Samples, ended.RangeText())
	}
}

func (s *Sink) logStatus(now time.Time, rate float64) {
	sum := s.st.summary(s.q, now)
	conn, on := s.st.connectedFor(now)
	qd, _ := s.q.level()
	s.log.Info().Bool("connected", on).Float64("samples_per_s", rate).Uint64("frames", sum.Frames).
		Uint64("gaps", sum.Gaps).Uint64("lost_frames", sum.LostFrames).Uint64("dropped_frames", sum.DroppedFrames).
		Uint64("reconnects", sum.Reconnects).Dur("connected_for", conn.Round(time.Second)).Dur("queued", qd).
		Msg("status")
}

// statusText is the one-line live status.
func (s *Sink) statusText(now time.Time, rate float64) string {
	sum := s.st.summary(s.q, now)
	conn, on := s.st.connectedFor(now)
	state := "connected"
	switch {
	case !on && sum.Connections == 0:
		state = "connecting" // never connected: nothing was lost yet
	case !on:
		state = "DISCONNECTED"
	}
	qd, _ := s.q.level()
	return fmt.Sprintf("%s %s | %.0f S/s | frames %d | gaps %d (%d lost) | drops %d | reconnects %d | queued %.1fs",
		state, conn.Round(time.Second), rate, sum.Frames, sum.Gaps, sum.LostFrames, sum.DroppedFrames,
		sum.Reconnects, qd.Seconds())
}

func (s *Sink) drawLive(now time.Time, rate float64) {
	s.o.Live.set(s.statusText(now, rate))
}

func (s *Sink) clearLive() {
	if s.o.Live != nil {
		s.o.Live.set("")
	}
}

// logStopped is the one line the sink logs when it stops: why, what the
// final flush wrote, and what was lost over the whole run.
func (s *Sink) logStopped(sum Summary) {
	s.log.Info().Str("why", sum.Stopped).Uint64("flushed_bytes", s.flushed).Uint64("dropped_at_exit", s.lostAtExit).
		Uint64("bytes_written", sum.BytesWritten).Uint64("frames", sum.Frames).Uint64("gaps", sum.Gaps).
		Uint64("lost_frames", sum.LostFrames).Uint64("dropped_frames", sum.DroppedFrames).Uint64("restarts", sum.Restarts).
		Msgf("sink stopped (%s): flushed %d bytes into the port at exit (%d frames still queued dropped); "+
			"over %.0fs wrote %d frames (%d bytes), lost %d frames in %d gaps, dropped %d frames the port did not take, %d restarts",
			sum.Stopped, s.flushed, s.lostAtExit, sum.DurationS, sum.Frames, sum.BytesWritten,
			sum.LostFrames, sum.Gaps, sum.DroppedFrames, sum.Restarts)
}

// printSummary writes the final summary to w: text, or one JSON line.
func printSummary(w io.Writer, sum Summary, asJSON bool) error {
	return result.Print(w, asJSON, sum)
}

// String is the summary for people: totals, then every gap and drop range.
func (sum Summary) String() string {
	last := "none"
	if sum.LastSeq != nil {
		last = fmt.Sprint(*sum.LastSeq)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "wsbridge sink: %.1fs (connected %.1fs, %d reconnects): %d frames, %d samples, %d bytes written, last seq %s\n"+
		"  gaps %d (%d frames lost), dropped %d frames (%d samples), duplicates %d, restarts %d, commands %d, replies %d\n",
		sum.DurationS, sum.ConnectedS, sum.Reconnects, sum.Frames, sum.Samples, sum.BytesWritten, last,
		sum.Gaps, sum.LostFrames, sum.DroppedFrames, sum.DroppedSamples, sum.Duplicates, sum.Restarts, sum.Commands, sum.Replies)
	for _, g := range sum.GapRanges {
		fmt.Fprintf(&b, "  gap: frames %d..%d (%d, %s)\n", g.From, g.To, g.Count, g.Reason)
	}
	for _, r := range sum.DropRanges {
		fmt.Fprintf(&b, "  dropped: frames %s\n", r)
	}
	return b.String()
}
