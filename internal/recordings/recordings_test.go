package recordings_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/wsbridge/wsbridge/internal/frame"
	"github.com/wsbridge/wsbridge/internal/record"
	"github.com/wsbridge/wsbridge/internal/recordings"
	"github.com/wsbridge/wsbridge/internal/relay"
	"github.com/wsbridge/wsbridge/internal/testsupport"
)

// The test channel: one i16 channel at 16 kHz, 160 sample instants per
// frame (10 ms); sample k = seq*160 + i carries int16(k).
const (
	rate   = 16000
	count  = 160
	token  = "s3cret"
	chName = "mic"
)

// rig is a relay with channel mic, fed by the test, and a Manager on it,
// both on real sockets.
type rig struct {
	t    *testing.T
	base string // http://127.0.0.1:PORT
	ch   *relay.Channel
	m    *recordings.Manager
	dir  string
}

func newRig(t *testing.T, dir string) *rig {
	t.Helper()
	log := zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.WarnLevel)
	srv, err := relay.New(relay.Options{Listen: "127.0.0.1:0", Token: token, Log: log})
	if err != nil {
		t.Fatal(err)
	}
	ch, err := srv.AddChannel(relay.ChannelOptions{Name: chName})
	if err != nil {
		t.Fatal(err)
	}
	base, err := srv.Listen()
	if err != nil {
		t.Fatal(err)
	}
	m, err := recordings.New(recordings.Options{Dir: dir, Streams: relay.WSURL(base), Token: token, Log: log,
		FlushInterval: 20 * time.Millisecond, Channel: recordings.Heads(srv)})
	if err != nil {
		t.Fatal(err)
	}
	m.Mount(srv)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx) }()
	t.Cleanup(func() {
		m.Close()
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	ch.Up("test device")
	return &rig{t: t, base: base, ch: ch, m: m, dir: m.Dir()}
}

// publish sends frames from..to-1 of the counter stream into the channel.
func (r *rig) publish(from, to uint32) {
	r.t.Helper()
	for seq := from; seq != to; seq++ {
		f := frame.Frame{Seq: seq, TimeUS: uint64(seq) * 10000, Rate: rate, Channels: 1, SampleType: frame.I16, Count: count}
		f.Data = make([]byte, f.PayloadSize())
		for i := 0; i < count; i++ {
			f.PutInt(i, 0, int64(int16(int64(seq)*count+int64(i))))
		}
		raw, err := frame.AppendFrame(nil, &f)
		if err != nil {
			r.t.Fatal(err)
		}
		var p frame.Packet
		if err := frame.Parse(&p, raw); err != nil {
			r.t.Fatal(err)
		}
		r.ch.Packet(&p)
	}
}

// call sends an API request with the token and decodes the JSON answer.
func (r *rig) call(method, path, body string, out any) int {
	r.t.Helper()
	return r.callAs(method, path, body, token, out)
}

func (r *rig) callAs(method, path, body, tok string, out any) int {
	r.t.Helper()
	req, _ := http.NewRequest(method, r.base+path, strings.NewReader(body))
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		r.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			r.t.Fatalf("%s %s: %d %q: %v", method, path, res.StatusCode, b, err)
		}
	}
	return res.StatusCode
}

// apiError is an error answer.
type apiError struct {
	Error     string                `json:"error"`
	Recording *recordings.Recording `json:"recording"`
}

// list is GET /api/recordings.
func (r *rig) list() recordings.List {
	r.t.Helper()
	var l recordings.List
	if code := r.call("GET", "/api/recordings", "", &l); code != 200 {
		r.t.Fatalf("GET /api/recordings: %d", code)
	}
	return l
}

// waitSamples waits until the running recording of mic has n samples.
func (r *rig) waitSamples(n uint64) {
	r.t.Helper()
	testsupport.WaitFor(r.t, 10*time.Second, fmt.Sprintf("%d samples recorded", n), func() bool {
		l := r.list()
		return len(l.Recordings) > 0 && l.Recordings[0].Samples >= n
	})
}

func readSidecar(t *testing.T, path string) record.Sidecar {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var sc record.Sidecar
	if err := json.Unmarshal(b, &sc); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return sc
}

// wantCounter checks that a WAV holds the counter's samples of frames
// from..to-1, exactly.
func wantCounter(t *testing.T, path string, from, to uint32) {
	t.Helper()
	w := testsupport.ReadWAV(t, path)
	if w.Tag != 1 || w.Channels != 1 || w.Bits != 16 || w.Rate != rate {
		t.Fatalf("%s: fmt tag %d, %d channels, %d bits, %d Hz; want PCM mono 16-bit %d Hz", path, w.Tag, w.Channels, w.Bits, w.Rate, rate)
	}
	got := w.I16()
	if want := int(to-from) * count; len(got) != want {
		t.Fatalf("%s: %d samples, want %d (frames %d..%d)", path, len(got), want, from, to-1)
	}
	for j, v := range got {
		if want := int16(int64(from)*count + int64(j)); v != want {
			t.Fatalf("%s: sample %d is %d, want %d", path, j, v, want)
		}
	}
}

// TestStartStopWritesCompleteFiles: a recording started over the API with
// labels records every frame published after the start, splits at a
// device gap (named in the first file's sidecar), stops on DELETE once it
// has what the channel had, and leaves complete WAVs and sidecars named
// after the channel and the labels, which the download route serves.
func TestStartStopWritesCompleteFiles(t *testing.T) {
	r := newRig(t, t.TempDir())
	r.publish(0, 10) // before the start: not recorded
	var rec recordings.Recording
	code := r.call("POST", "/api/channels/mic/record", `{"labels": ["speaker=ann", "word=yes please"], "format": "wav"}`, &rec)
	if code != http.StatusCreated || rec.State != recordings.StateRecording || rec.Channel != chName {
		t.Fatalf("start: %d %+v", code, rec)
	}
	if rec.Labels["speaker"] != "ann" || rec.Labels["word"] != "yes please" || rec.Dir != r.dir {
		t.Fatalf("start: labels %v dir %q", rec.Labels, rec.Dir)
	}
	r.publish(10, 50)
	r.waitSamples(40 * count)
	r.publish(60, 100) // frames 50..59 never reach serve: a device gap
	var done recordings.Recording
	if code := r.call("DELETE", "/api/channels/mic/record", "", &done); code != 200 {
		t.Fatalf("stop: %d %+v", code, done)
	}
	if done.State != recordings.StateDone || done.EndedBy != recordings.EndedByStop || done.EndedAt == nil {
		t.Fatalf("stop: state %q ended_by %q", done.State, done.EndedBy)
	}
	if done.Samples != 80*count || done.Frames != 80 || done.Gaps != 1 || done.LostFrames != 10 || len(done.Files) != 2 {
		t.Fatalf("stop: %d samples %d frames %d gaps %d lost in %d files, want 12800, 80, 1, 10 in 2: %+v",
			done.Samples, done.Frames, done.Gaps, done.LostFrames, len(done.Files), done)
	}
	for i, f := range done.Files {
		if !strings.HasPrefix(f.Name, "mic-speaker=ann-word=yes_please-") || !strings.HasSuffix(f.Name, ".wav") || f.Open {
			t.Errorf("file %d: %+v: want mic-speaker=ann-word=yes_please-...wav, closed", i, f)
		}
		if f.Sidecar != strings.TrimSuffix(f.Name, ".wav")+".json" || f.URL != "/api/recordings/files/"+f.Name || f.Bytes == 0 {
			t.Errorf("file %d: %+v", i, f)
		}
		if _, err := os.Stat(filepath.Join(r.dir, f.Name)); err != nil {
			t.Errorf("file %d not in the directory: %v", i, err)
		}
	}
	wantCounter(t, filepath.Join(r.dir, done.Files[0].Name), 10, 50)
	wantCounter(t, filepath.Join(r.dir, done.Files[1].Name), 60, 100)
	sc := readSidecar(t, filepath.Join(r.dir, done.Files[0].Sidecar))
	if !sc.Complete || sc.EndedBy != "gap" || sc.Channel != chName || sc.Labels["word"] != "yes please" || len(sc.Gaps) != 1 {
		t.Fatalf("first sidecar: complete %v ended_by %q channel %q labels %v gaps %+v", sc.Complete, sc.EndedBy, sc.Channel, sc.Labels, sc.Gaps)
	}
	if g := sc.Gaps[0]; g.From != 50 || g.To != 59 || g.Frames != 10 || g.Reason != "device" || g.AtSample != 40*count {
		t.Fatalf("gap %+v: want frames 50..59 (10), reason device, at sample 6400", g)
	}
	sc = readSidecar(t, filepath.Join(r.dir, done.Files[1].Sidecar))
	if !sc.Complete || sc.StartedBy != "gap" || sc.EndedBy != "stop" || *sc.FirstSeq != 60 || *sc.LastSeq != 99 {
		t.Fatalf("second sidecar: complete %v started_by %q ended_by %q seqs %d..%d", sc.Complete, sc.StartedBy, sc.EndedBy, *sc.FirstSeq, *sc.LastSeq)
	}

	l := r.list()
	if !l.Enabled || l.Dir != r.dir || len(l.Recordings) != 1 || l.Recordings[0].ID != rec.ID || l.Recordings[0].State != recordings.StateDone {
		t.Fatalf("list: %+v", l)
	}
	// Downloads: the files written, byte for byte; nothing else.
	for _, name := range []string{done.Files[0].Name, done.Files[1].Sidecar} {
		res, err := http.Get(r.base + "/api/recordings/files/" + name + "?token=" + token)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(res.Body)
		res.Body.Close()
		want, _ := os.ReadFile(filepath.Join(r.dir, name))
		if res.StatusCode != 200 || !bytes.Equal(got, want) || !strings.Contains(res.Header.Get("Content-Disposition"), name) {
			t.Errorf("download %s: %d, %d bytes (want %d), disposition %q", name, res.StatusCode, len(got), len(want), res.Header.Get("Content-Disposition"))
		}
	}
	os.WriteFile(filepath.Join(r.dir, "other.wav"), []byte("not ours"), 0o644)
	for _, p := range []string{"other.wav", "..%2f..%2fetc%2fpasswd", "%2e%2e"} {
		if code := r.call("GET", "/api/recordings/files/"+p, "", nil); code != http.StatusNotFound {
			t.Errorf("download %s: %d, want 404", p, code)
		}
	}
}

// TestSecondStartConflicts: one recording per channel; a second start
// answers 409 naming the running one, and after a stop a new one starts.
func TestSecondStartConflicts(t *testing.T) {
	r := newRig(t, t.TempDir())
	var first recordings.Recording
	if code := r.call("POST", "/api/channels/mic/record", "", &first); code != 201 {
		t.Fatalf("start: %d", code)
	}
	var busy apiError
	if code := r.call("POST", "/api/channels/mic/record", `{"labels": {"take": "2"}}`, &busy); code != http.StatusConflict {
		t.Fatalf("second start: %d %+v, want 409", code, busy)
	}
	if !strings.Contains(busy.Error, first.ID) || !strings.Contains(busy.Error, "already recording") ||
		busy.Recording == nil || busy.Recording.ID != first.ID {
		t.Fatalf("second start: %+v: want the running recording %s named", busy, first.ID)
	}
	var stopped recordings.Recording
	if code := r.call("POST", "/api/channels/mic/record/stop", "", &stopped); code != 200 || stopped.ID != first.ID {
		t.Fatalf("stop: %d %+v", code, stopped)
	}
	var again apiError
	if code := r.call("DELETE", "/api/channels/mic/record", "", &again); code != http.StatusNotFound ||
		!strings.Contains(again.Error, "not recording") || !strings.Contains(again.Error, first.ID) {
		t.Fatalf("stop again: %d %+v, want 404 naming the last recording", code, again)
	}
	var second recordings.Recording
	if code := r.call("POST", "/api/channels/mic/record", `{"labels": {"take": "2"}}`, &second); code != 201 || second.ID == first.ID {
		t.Fatalf("start after stop: %d %+v", code, second)
	}
	if l := r.list(); len(l.Recordings) != 2 || l.Recordings[0].ID != second.ID || l.Recordings[0].State != recordings.StateRecording {
		t.Fatalf("list: %+v: want the new one first, recording", l)
	}
}

// TestDisabledWithoutDir: without --record-dir the API says how to enable
// it and records nothing.
func TestDisabledWithoutDir(t *testing.T) {
	r := newRig(t, "")
	for _, c := range []struct{ method, path string }{
		{"POST", "/api/channels/mic/record"}, {"DELETE", "/api/channels/mic/record"}, {"POST", "/api/channels/mic/record/stop"},
		{"GET", "/api/recordings/files/x.wav"},
	} {
		var e apiError
		if code := r.call(c.method, c.path, "", &e); code != http.StatusForbidden || !strings.Contains(e.Error, "--record-dir DIR") {
			t.Errorf("%s %s: %d %+v, want 403 naming --record-dir", c.method, c.path, code, e)
		}
	}
	if l := r.list(); l.Enabled || !strings.Contains(l.Why, "--record-dir") || len(l.Recordings) != 0 {
		t.Errorf("list: %+v: want enabled false and why", l)
	}
}

// TestAPIRefusals: the token is required, and bad requests say what is
// wrong.
func TestAPIRefusals(t *testing.T) {
	r := newRig(t, t.TempDir())
	if code := r.callAs("POST", "/api/channels/mic/record", "", "", nil); code != http.StatusUnauthorized {
		t.Errorf("start without token: %d, want 401", code)
	}
	if code := r.callAs("GET", "/api/recordings", "", "wrong", nil); code != http.StatusUnauthorized {
		t.Errorf("list with a wrong token: %d, want 401", code)
	}
	for _, c := range []struct {
		path, body string
		code       int
		msg        string
	}{
		{"/api/channels/nope/record", "", 404, `no channel "nope"`},
		{"/api/channels/mic/record", `{"labels": ["speaker"]}`, 400, `label "speaker": want key=value`},
		{"/api/channels/mic/record", `{"labels": ["a/b=1"]}`, 400, `label "a/b=1"`},
		{"/api/channels/mic/record", `{"format": "mp3"}`, 400, `format "mp3": want auto, wav or csv`},
		{"/api/channels/mic/record", `{"on_gap": "fill"}`, 400, `on_gap "fill"`},
		{"/api/channels/mic/record", `{"duration": "soon"}`, 400, `duration "soon"`},
		{"/api/channels/mic/record", `{"rotate_size": "1KB"}`, 400, `rotate_size "1KB": want at least 64KiB`},
		{"/api/channels/mic/record", `{"label": ["a=b"]}`, 400, `unknown field "label"`},
	} {
		var e apiError
		if code := r.call("POST", c.path, c.body, &e); code != c.code || !strings.Contains(e.Error, c.msg) {
			t.Errorf("POST %s %s: %d %q, want %d containing %q", c.path, c.body, code, e.Error, c.code, c.msg)
		}
	}
	if l := r.list(); len(l.Recordings) != 0 {
		t.Errorf("refused starts were recorded: %+v", l.Recordings)
	}
}

// TestCloseCompletesFiles: at shutdown (Close) a running recording gets
// what the channel had, its files are closed complete, and no new
// recording starts.
func TestCloseCompletesFiles(t *testing.T) {
	r := newRig(t, t.TempDir())
	r.publish(0, 5)
	var rec recordings.Recording
	if code := r.call("POST", "/api/channels/mic/record", `{"on_gap": "keep"}`, &rec); code != 201 {
		t.Fatalf("start: %d", code)
	}
	r.publish(5, 30)
	stopped := r.m.Close()
	if len(stopped) != 1 || stopped[0].ID != rec.ID || stopped[0].EndedBy != recordings.EndedByShutdown || stopped[0].State != recordings.StateDone {
		t.Fatalf("Close: %+v", stopped)
	}
	if len(stopped[0].Files) != 1 || stopped[0].Samples != 25*count {
		t.Fatalf("Close: %d files, %d samples; want 1 file of %d", len(stopped[0].Files), stopped[0].Samples, 25*count)
	}
	f := stopped[0].Files[0]
	wantCounter(t, filepath.Join(r.dir, f.Name), 5, 30)
	if sc := readSidecar(t, filepath.Join(r.dir, f.Sidecar)); !sc.Complete || sc.EndedBy != "stop" {
		t.Fatalf("sidecar: complete %v ended_by %q", sc.Complete, sc.EndedBy)
	}
	if again := r.m.Close(); len(again) != 1 || again[0].ID != rec.ID {
		t.Fatalf("Close again: %+v", again)
	}
	var e apiError
	if code := r.call("POST", "/api/channels/mic/record", "", &e); code != http.StatusServiceUnavailable || !strings.Contains(e.Error, "stopping") {
		t.Fatalf("start after Close: %d %+v, want 503", code, e)
	}
}

// TestDurationEndsByItself: a recording with a duration stops by itself
// with exactly that much.
func TestDurationEndsByItself(t *testing.T) {
	r := newRig(t, t.TempDir())
	r.publish(0, 1)
	var rec recordings.Recording
	if code := r.call("POST", "/api/channels/mic/record", `{"duration": "250ms", "format": "csv"}`, &rec); code != 201 {
		t.Fatalf("start: %d", code)
	}
	r.publish(1, 40)
	var got recordings.Recording
	testsupport.WaitFor(t, 10*time.Second, "the recording to end by itself", func() bool {
		got = r.list().Recordings[0]
		return got.State == recordings.StateDone
	})
	if got.EndedBy != recordings.EndedByDuration || got.Samples != 4000 || len(got.Files) != 1 || !strings.HasSuffix(got.Files[0].Name, ".csv") {
		t.Fatalf("%+v: want ended_by duration, 4000 samples in one csv", got)
	}
}

// TestStartBeforeTheFirstFrame: a recording started while the channel has
// no frame of its epoch yet (a device that never came up) records from
// the first frame that arrives once it is connected.
func TestStartBeforeTheFirstFrame(t *testing.T) {
	r := newRig(t, t.TempDir())
	var rec recordings.Recording
	if code := r.call("POST", "/api/channels/mic/record", "", &rec); code != 201 {
		t.Fatalf("start: %d", code)
	}
	testsupport.WaitFor(t, 10*time.Second, "the recorder to connect", func() bool { return len(r.ch.Info().Clients) == 1 })
	r.publish(1630, 1650) // a device that was running before serve
	var done recordings.Recording
	if code := r.call("DELETE", "/api/channels/mic/record", "", &done); code != 200 {
		t.Fatalf("stop: %d", code)
	}
	if len(done.Files) != 1 || done.Gaps != 0 || done.Samples != 20*count || !strings.HasSuffix(done.Files[0].Name, "-seq1630.wav") {
		t.Fatalf("%+v: want one file from seq 1630, 3200 samples, no gap", done)
	}
	wantCounter(t, filepath.Join(r.dir, done.Files[0].Name), 1630, 1650)
}
