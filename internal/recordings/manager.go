package recordings

import (
	"cmp"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/wsbridge/wsbridge/internal/frame"
	"github.com/wsbridge/wsbridge/internal/record"
	"github.com/wsbridge/wsbridge/internal/sentinel"
	"github.com/wsbridge/wsbridge/internal/wsclient"
	"github.com/wsbridge/wsbridge/internal/wsproto"
)

// Head is where a channel's stream stands: its epoch and the seq its
// next frame will carry. Valid is false while its history holds no frame
// of the epoch (a recording then starts with the first frame that comes).
type Head struct {
	Epoch wsproto.Epoch
	Next  uint32
	Valid bool
}

// Options configure a Manager.
type Options struct {
	// Dir is where the recordings go (--record-dir); "" disables the
	// recorder. It is created if missing.
	Dir string
	// Streams is serve's own stream base, e.g. ws://127.0.0.1:8080/ws: a
	// channel's recording reads Streams + "/" + NAME.
	Streams string
	Token   string      // serve's --token, sent by the recorder
	TLS     *tls.Config // for wss:// streams (PinCertificate trusts serve's own)
	// Channel finds a channel by name and says where its stream stands.
	Channel func(name string) (Head, bool)
	Log     zerolog.Logger

	// FlushInterval is record's (default 250ms): how often files, sidecars
	// and the progress shown are brought up to date.
	FlushInterval time.Duration
	// DrainTimeout bounds how long a stop waits for the recording to reach
	// the frames the channel had when the stop was asked (default 5s).
	DrainTimeout time.Duration
	// Keep is how many finished recordings List keeps (default 200).
	Keep int
}

// Recording states.
const (
	StateRecording = "recording"
	StateStopping  = "stopping"
	StateDone      = "done"
	StateFailed    = "failed"
)

// Why a recording ended (Recording.EndedBy).
const (
	EndedByStop     = "stop"     // asked (the page's stop button, DELETE)
	EndedByShutdown = "shutdown" // serve stopped
	EndedByDuration = "duration" // the requested duration was recorded
	EndedByError    = "error"    // a file could not be written (Error says why)
)

// Recording is one recording, as the API shows it.
type Recording struct {
	ID         string            `json:"id"` // CHANNEL-UTCTIME, unique in this serve
	Channel    string            `json:"channel"`
	State      string            `json:"state"` // recording, stopping, done, failed
	StartedAt  time.Time         `json:"started_at"`
	EndedAt    *time.Time        `json:"ended_at,omitempty"`
	ElapsedS   float64           `json:"elapsed_s"`
	Labels     map[string]string `json:"labels"`
	Format     string            `json:"format"`
	OnGap      string            `json:"on_gap"`
	Duration   string            `json:"duration,omitempty"`
	Dir        string            `json:"dir"`
	Files      []File            `json:"files"`
	Frames     uint64            `json:"frames"`
	Samples    uint64            `json:"samples"` // recorded sample instants (fills excluded)
	Gaps       uint64            `json:"gaps"`
	LostFrames uint64            `json:"lost_frames"`
	Restarts   uint64            `json:"restarts"`
	EndedBy    string            `json:"ended_by,omitempty"` // stop, shutdown, duration, error
	Error      string            `json:"error,omitempty"`
}

// File is one file a recording wrote, in Recording.Dir, and its sidecar.
type File struct {
	Name       string `json:"name"`
	Sidecar    string `json:"sidecar"`
	Open       bool   `json:"open"`  // being written (its sidecar says complete: false)
	Bytes      int64  `json:"bytes"` // its size when listed
	URL        string `json:"url"`   // GET it here (read-only, under the token)
	SidecarURL string `json:"sidecar_url"`
}

// Manager runs serve's recordings, one per channel at a time. Safe for
// concurrent use; Close stops them all.
type Manager struct {
	o Options

	mu       sync.Mutex
	recs     []*rec          // oldest first; running ones and the Keep newest finished
	running  map[string]*rec // by channel
	files    map[string]bool // base names of the files this serve wrote: what downloads may serve
	ids      map[string]bool
	closing  bool
	stopped  []Recording // what Close stopped
	closeOne sync.Once   // Do returns to every caller once the first has stopped everything
}

// rec is one recording's state; r is guarded by Manager.mu.
type rec struct {
	r      Recording
	cancel context.CancelFunc
	done   chan struct{} // closed once record.Run returned and r is final
	head0  Head          // the channel's head at start
	next   uint32        // progress: the seq after the last frame recorded or counted lost
	epoch  wsproto.Epoch
	known  bool
	moved  chan struct{} // a progress report arrived (capacity 1)
	stopBy string
}

// New checks o and returns a Manager; with a Dir it creates the directory
// and makes sure it can write there.
func New(o Options) (*Manager, error) {
	o.FlushInterval = cmp.Or(o.FlushInterval, 250*time.Millisecond)
	o.DrainTimeout = cmp.Or(o.DrainTimeout, 5*time.Second)
	o.Keep = cmp.Or(o.Keep, 200)
	if o.Dir != "" {
		dir, err := checkDir(o.Dir)
		if err != nil {
			return nil, err
		}
		o.Dir = dir
	}
	return &Manager{o: o, running: map[string]*rec{}, files: map[string]bool{}, ids: map[string]bool{}}, nil
}

// checkDir makes dir (and its parents) if missing, checks that a file can
// be created in it, and returns its absolute path. (serve checks
// --record-dir the same way before, in serve.checkRecordDir.)
func checkDir(dir string) (string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", sentinel.Errorf(ErrDir, "--record-dir %s: %w", dir, err)
	}
	if err := os.MkdirAll(abs, 0o755); err != nil {
		return "", sentinel.Errorf(ErrDir, "--record-dir %s: failed to create it: %w", dir, err)
	}
	f, err := os.CreateTemp(abs, ".wsbridge-check-*")
	if err != nil {
		return "", sentinel.Errorf(ErrDir, "--record-dir %s: cannot write there: %w", dir, err)
	}
	f.Close()
	os.Remove(f.Name())
	return abs, nil
}

// Enabled reports whether serve records (--record-dir was given).
func (m *Manager) Enabled() bool { return m.o.Dir != "" }

// Dir is the recordings' directory (absolute), "" when disabled.
func (m *Manager) Dir() string { return m.o.Dir }

// Start starts recording channel name. Errors wrap ErrDisabled,
// ErrNoChannel, ErrBadRequest, ErrBusy (a *BusyError naming the running
// recording) or ErrClosing.
func (m *Manager) Start(name string, req StartRequest) (Recording, error) {
	if !m.Enabled() {
		return Recording{}, errDisabled
	}
	head, ok := m.o.Channel(name)
	if !ok {
		return Recording{}, sentinel.Errorf(ErrNoChannel, "no channel %q on this server (GET /api/channels lists them)", name)
	}
	ro, err := m.recordOptions(name, &req)
	if err != nil {
		return Recording{}, sentinel.Tag(err, ErrBadRequest)
	}
	if head.Valid { // from the frame after the ones the channel has now: nothing is missed while the recorder connects
		ro.Since = wsclient.Position{Seq: head.Next, Epoch: head.Epoch, Valid: true}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closing {
		return Recording{}, sentinel.Errorf(ErrClosing, "serve is stopping: no new recording")
	}
	if cur := m.running[name]; cur != nil {
		return Recording{}, &BusyError{Running: m.snapshot(cur)}
	}
	now := time.Now().UTC()
	rc := &rec{head0: head, done: make(chan struct{}), moved: make(chan struct{}, 1)}
	rc.r = Recording{ID: m.newID(name, now), Channel: name, State: StateRecording, StartedAt: now,
		Labels: req.Labels.Map(), Format: ro.Format, OnGap: ro.OnGap, Duration: req.Duration, Dir: m.o.Dir, Files: []File{}}
	ro.Progress = func(p record.Progress) { m.progress(rc, &p) }
	ro.Log = m.o.Log.With().Str("part", "recorder").Str("recording", rc.r.ID).Logger()
	var ctx context.Context
	ctx, rc.cancel = context.WithCancel(context.Background())
	m.running[name] = rc
	m.recs = append(m.recs, rc)
	go m.run(ctx, rc, ro)
	m.o.Log.Info().Str("channel", name).Str("recording", rc.r.ID).Strs("labels", req.Labels).Str("dir", m.o.Dir).
		Msg("recording started (from the API)")
	return m.snapshot(rc), nil
}

// newID is CHANNEL-UTCTIME, with -2, -3, ... when taken. Called with mu held.
func (m *Manager) newID(name string, t time.Time) string {
	base := name + "-" + t.Format("20060102T150405Z")
	id := base
	for i := 2; m.ids[id]; i++ {
		id = fmt.Sprintf("%s-%d", base, i)
	}
	m.ids[id] = true
	return id
}

// recordOptions checks req and turns it into record's options.
func (m *Manager) recordOptions(name string, req *StartRequest) (record.Options, error) {
	if err := req.check(); err != nil {
		return record.Options{}, err
	}
	o := record.DefaultOptions()
	o.URLs = []string{m.o.Streams + "/" + name}
	o.Dir, o.Token, o.TLS = m.o.Dir, m.o.Token, m.o.TLS
	o.Name = fileName(name, req.Labels)
	o.Labels = slices.Clone([]string(req.Labels))
	o.Format = cmp.Or(req.Format, o.Format)
	o.OnGap = cmp.Or(req.OnGap, o.OnGap)
	o.RotateSize = req.RotateSize
	o.RotateEvery, o.Duration = req.rotateEvery, req.duration
	o.FlushInterval = m.o.FlushInterval
	o.BackoffMin, o.BackoffMax = 100*time.Millisecond, 2*time.Second // serve is on this machine
	if err := o.Validate(); err != nil {
		return record.Options{}, errors.New(apiNames.Replace(err.Error()))
	}
	return o, nil
}

// apiNames renames record's flags in its errors as the request's fields.
var apiNames = strings.NewReplacer("--rotate-size", "rotate_size", "--rotate-every", "rotate_every", "--format", "format",
	"--on-gap", "on_gap", "--label", "label", "--duration", "duration")

// run is one recording's goroutine.
func (m *Manager) run(ctx context.Context, rc *rec, o record.Options) {
	sum, err := record.Run(ctx, o)
	m.mu.Lock()
	defer m.mu.Unlock()
	r := &rc.r
	if len(sum.Streams) == 1 {
		m.take(rc, &sum.Streams[0], "")
	}
	now := time.Now().UTC()
	r.EndedAt = &now
	r.State, r.EndedBy = StateDone, rc.stopBy
	switch {
	case err != nil:
		r.State, r.EndedBy, r.Error = StateFailed, EndedByError, err.Error()
	case r.EndedBy == "":
		r.EndedBy = EndedByDuration
	}
	delete(m.running, r.Channel)
	m.trim()
	close(rc.done)
	ev := m.o.Log.Info()
	if err != nil {
		ev = m.o.Log.Error().Err(err)
	}
	ev.Str("channel", r.Channel).Str("recording", r.ID).Str("ended_by", r.EndedBy).Strs("files", names(r.Files)).
		Uint64("samples", r.Samples).Uint64("gaps", r.Gaps).Msg("recording stopped: its files are complete")
}

// progress takes a report from the recording's writer goroutine.
func (m *Manager) progress(rc *rec, p *record.Progress) {
	m.mu.Lock()
	m.take(rc, &p.StreamSummary, p.Open)
	rc.next, rc.epoch, rc.known = p.NextSeq, p.Epoch, p.SeqKnown
	m.mu.Unlock()
	select {
	case rc.moved <- struct{}{}:
	default:
	}
}

// take copies a stream summary into the recording. Called with mu held.
func (m *Manager) take(rc *rec, s *record.StreamSummary, open string) {
	r := &rc.r
	r.Frames, r.Samples, r.Gaps, r.LostFrames, r.Restarts = s.Frames, s.Samples, s.Gaps, s.LostFrames, s.Restarts
	r.Files = r.Files[:0]
	for _, path := range s.Files {
		f := newFile(filepath.Base(path))
		f.Open = path == open
		m.files[f.Name], m.files[f.Sidecar] = true, true
		r.Files = append(r.Files, f)
	}
}

func newFile(name string) File {
	sc := strings.TrimSuffix(name, filepath.Ext(name)) + ".json"
	return File{Name: name, Sidecar: sc, URL: filesPath + name, SidecarURL: filesPath + sc}
}

// trim forgets the oldest finished recordings beyond Keep. Called with mu
// held.
func (m *Manager) trim() {
	for len(m.recs) > m.o.Keep {
		i := slices.IndexFunc(m.recs, func(r *rec) bool { return r.r.State == StateDone || r.r.State == StateFailed })
		if i < 0 {
			return
		}
		m.recs = slices.Delete(m.recs, i, i+1)
	}
}

// Stop stops channel name's recording once it has recorded what the
// channel had when Stop was called (at most DrainTimeout later), and
// returns it with its files complete. by is EndedByStop or
// EndedByShutdown. Errors wrap ErrDisabled or ErrNotRecording.
func (m *Manager) Stop(name, by string) (Recording, error) {
	if !m.Enabled() {
		return Recording{}, errDisabled
	}
	m.mu.Lock()
	rc := m.running[name]
	if rc == nil {
		msg := fmt.Sprintf("channel %q is not recording", name)
		if last := m.last(name); last != nil {
			msg += fmt.Sprintf(" (its last recording, %s, is %s)", last.r.ID, last.r.State)
		}
		m.mu.Unlock()
		return Recording{}, sentinel.Errorf(ErrNotRecording, "%s", msg)
	}
	first := rc.r.State == StateRecording
	if first {
		rc.r.State, rc.stopBy = StateStopping, by
	}
	m.mu.Unlock()
	if first {
		m.drain(rc, name)
		rc.cancel()
	}
	<-rc.done
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.snapshot(rc), nil
}

// drain waits until the recording has reached the channel's head as it
// is now, or DrainTimeout passed, or the recording ended by itself.
func (m *Manager) drain(rc *rec, name string) {
	target, ok := m.o.Channel(name)
	if !ok || target == rc.head0 {
		return // nothing was published since the start
	}
	timeout := time.NewTimer(m.o.DrainTimeout)
	defer timeout.Stop()
	for {
		m.mu.Lock()
		reached := rc.known && rc.epoch == target.Epoch && !frame.SeqBefore(rc.next, target.Next)
		m.mu.Unlock()
		if reached {
			return
		}
		select {
		case <-rc.moved:
		case <-rc.done:
			return
		case <-timeout.C:
			m.o.Log.Warn().Str("channel", name).Dur("waited", m.o.DrainTimeout).
				Msg("the recording had not caught up with the channel when stopped: it ends where it was")
			return
		}
	}
}

// last is channel name's newest recording, or nil. Called with mu held.
func (m *Manager) last(name string) *rec {
	for i := len(m.recs) - 1; i >= 0; i-- {
		if m.recs[i].r.Channel == name {
			return m.recs[i]
		}
	}
	return nil
}

// List returns the recordings made since serve started, newest first,
// of one channel (name) or of all ("").
func (m *Manager) List(name string) []Recording {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := []Recording{}
	for i := len(m.recs) - 1; i >= 0; i-- {
		if name == "" || m.recs[i].r.Channel == name {
			out = append(out, m.snapshot(m.recs[i]))
		}
	}
	return out
}

// snapshot is a copy of rc's recording for the API, with the files'
// sizes and the time elapsed. Called with mu held.
func (m *Manager) snapshot(rc *rec) Recording {
	r := rc.r
	r.Files = slices.Clone(r.Files)
	for i := range r.Files {
		if fi, err := os.Stat(filepath.Join(m.o.Dir, r.Files[i].Name)); err == nil {
			r.Files[i].Bytes = fi.Size()
		}
	}
	end := time.Now()
	if r.EndedAt != nil {
		end = *r.EndedAt
	}
	r.ElapsedS = end.Sub(r.StartedAt).Seconds()
	return r
}

// Close stops every running recording as Stop does (ended_by shutdown),
// waits for their files to be complete, refuses new ones, and returns
// what it stopped. Idempotent: later calls wait for the first and return
// the same.
func (m *Manager) Close() []Recording {
	m.closeOne.Do(func() {
		m.mu.Lock()
		m.closing = true
		var names []string
		for n := range m.running {
			names = append(names, n)
		}
		m.mu.Unlock()
		slices.Sort(names)
		out := make([]Recording, len(names))
		var wg sync.WaitGroup
		for i, n := range names {
			wg.Go(func() { out[i], _ = m.Stop(n, EndedByShutdown) })
		}
		wg.Wait()
		m.stopped = out
	})
	return m.stopped
}

func names(fs []File) []string {
	out := make([]string, len(fs))
	for i, f := range fs {
		out[i] = f.Name
	}
	return out
}
