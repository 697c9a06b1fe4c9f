package serve

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/wsbridge/wsbridge/internal/recordings"
	"github.com/wsbridge/wsbridge/internal/relay"
	"github.com/wsbridge/wsbridge/internal/testsupport"
)

// TestRecordDirShutdownCompletesFiles: serve --record-dir with a token
// mounts the recorder (the token is needed, the recorder reads serve's own
// stream with it); a recording started over the API is stopped by serve's
// shutdown, which the stop line says, and leaves a complete WAV of the
// simulator's counter and a complete sidecar.
func TestRecordDirShutdownCompletesFiles(t *testing.T) {
	var log testsupport.SyncBuffer
	dir := filepath.Join(t.TempDir(), "rec") // created by serve
	o := DefaultOptions()
	o.Sim, o.SimCfg = true, simConfig()
	o.SimCfg.Rate, o.SimCfg.Channels, o.SimCfg.FrameSamples = 8000, 1, 80 // audio rate: a WAV
	o.SimCfg.MaxLag = time.Minute                                         // late on a loaded machine, never a device gap
	o.Relay.Listen, o.Relay.Token, o.Log, o.RecordDir = "127.0.0.1:0", "tok", zerolog.New(&log), dir
	o.Recorder = func(srv *relay.Server, streams string) (Recorder, error) {
		return recordings.ForServe(srv, streams, recordings.ServeConfig{Dir: dir, Token: "tok", Log: o.Log})
	}
	s := testsupport.StartServe(t, func(ctx context.Context, out io.Writer) error {
		o.Out = out
		return Run(ctx, o)
	})
	api := func(method, path string, out any) int {
		req, _ := http.NewRequest(method, s.URL+path, nil)
		req.Header.Set("Authorization", "Bearer tok")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		json.NewDecoder(res.Body).Decode(out)
		return res.StatusCode
	}
	res, err := http.Post(s.URL+"/api/channels/sim/record", "application/json", nil)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 401 {
		t.Fatalf("start without the token: %s, want 401", res.Status)
	}
	var rec recordings.Recording
	if code := api("POST", "/api/channels/sim/record", &rec); code != 201 {
		t.Fatalf("start: %d %+v", code, rec)
	}
	testsupport.WaitFor(t, 10*time.Second, "a second of samples recorded", func() bool {
		var l recordings.List
		api("GET", "/api/recordings", &l)
		return len(l.Recordings) == 1 && l.Recordings[0].Samples >= 8000
	})
	if err := s.Stop(); err != nil {
		t.Fatal(err)
	}
	lines := log.LogEntries("serve stopped")
	if len(lines) != 1 {
		t.Fatalf("%d stop lines:\n%s", len(lines), log.String())
	}
	msg, _ := lines[0]["message"].(string)
	if lines[0]["recordings_stopped"] != 1.0 || !strings.Contains(msg, "; stopped 1 recording in "+dir+", files closed: sim: ") ||
		!strings.Contains(msg, "1 file complete (sim-") {
		t.Fatalf("stop line: %s", msg)
	}
	wavs, _ := filepath.Glob(filepath.Join(dir, "sim-*.wav"))
	if len(wavs) != 1 {
		t.Fatalf("files %v, want one WAV", wavs)
	}
	samples := testsupport.ReadWAV(t, wavs[0]).I16()
	for i := 1; i < len(samples); i++ {
		if samples[i] != samples[i-1]+1 {
			t.Fatalf("sample %d is %d after %d: the counter is not contiguous", i, samples[i], samples[i-1])
		}
	}
	var sc struct {
		Complete bool   `json:"complete"`
		Samples  int    `json:"samples"`
		EndedBy  string `json:"ended_by"`
	}
	b, _ := os.ReadFile(strings.TrimSuffix(wavs[0], ".wav") + ".json")
	if err := json.Unmarshal(b, &sc); err != nil || !sc.Complete || sc.Samples != len(samples) || sc.Samples < 8000 {
		t.Fatalf("sidecar %s: %+v (%v), want complete with the WAV's %d samples", b, sc, err, len(samples))
	}
}
