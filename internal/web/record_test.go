package web

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/wsbridge/wsbridge/internal/testsupport"
)

// recState is window.wsbridgeRecorder, the record section's state.
type recState struct {
	Channel string   `json:"channel"`
	Enabled bool     `json:"enabled"`
	State   string   `json:"state"`
	ID      string   `json:"id"`
	Samples int      `json:"samples"`
	Gaps    int      `json:"gaps"`
	Files   []string `json:"files"`
	Dir     string   `json:"dir"`
	Error   string   `json:"error"`
	Text    string   `json:"text"`
}

func (tb *tab) recorder() recState {
	tb.t.Helper()
	var r recState
	tb.eval(`JSON.parse(JSON.stringify(window.wsbridgeRecorder || {}))`, &r)
	return r
}

// TestPageRecordsOnTheServer: on a channel's view, with serve
// --record-dir and a token, typing labels and clicking Record starts serve's
// recorder; the page shows it running with the samples so far; Stop ends
// it, and the page names the file, which is in the directory, complete (a
// WAV whose header matches its size, the simulator's counter without a
// hole, a complete sidecar with the labels and the samples the page
// shows), and downloadable from the page's link.
func TestPageRecordsOnTheServer(t *testing.T) {
	parallelPage(t, light)
	const token = "rec-t0ken"
	dir := t.TempDir()
	tb := newTab(t)
	srv := startServe(t, simOpts{Signal: "counter", Rate: 8000, Channels: 1, Token: token, RecordDir: dir, MaxLag: time.Minute})
	tb.open(srv.URL, "?token="+token)
	tb.waitFor("the record button", `window.wsbridgeRecorder && wsbridgeRecorder.enabled && !document.getElementById("recorder").hidden &&
		!document.getElementById("rec-button").disabled`, 10*time.Second)
	tb.run(chromedp.SendKeys(chromedp.ID("rec-labels"), "speaker=ann word=yes"), chromedp.Click(chromedp.ID("rec-button")))
	tb.waitFor("a second recorded", `wsbridgeRecorder.state === "recording" && wsbridgeRecorder.samples >= 8000 &&
		document.getElementById("rec-button").textContent.includes("Stop")`, 20*time.Second)
	// The elapsed time is the wall clock's (m:ss): its format is checked, not its value.
	if r := tb.recorder(); !regexp.MustCompile(`^● REC \d+:\d\d · `).MatchString(r.Text) || !strings.Contains(r.Text, "samples · 0 gaps") {
		t.Errorf("while recording the page says %q", r.Text)
	}
	tb.run(chromedp.Click(chromedp.ID("rec-button")))
	tb.waitFor("the file named", `wsbridgeRecorder.state === "done" && document.querySelectorAll("#rec-files a[data-file]").length === 1`, 20*time.Second)
	r := tb.recorder()
	var shown []string
	tb.eval(`[...document.querySelectorAll("#rec-files a[data-file]")].map((a) => a.dataset.file)`, &shown)
	if r.Dir != dir || len(shown) != 1 || !strings.HasPrefix(shown[0], "sim-speaker=ann-word=yes-") || !strings.HasSuffix(shown[0], ".wav") {
		t.Fatalf("the page shows %v in %q (state %+v), want one sim-speaker=ann-word=yes-...wav in %s", shown, r.Dir, r, dir)
	}
	if !regexp.MustCompile(`^Recorded \d+:\d\d \(stopped\) · `).MatchString(r.Text) || !strings.Contains(r.Text, "1 file in "+dir) {
		t.Errorf("after the stop the page says %q", r.Text)
	}
	path := filepath.Join(dir, shown[0])
	samples := testsupport.ReadWAV(t, path).I16()
	for i := 1; i < len(samples); i++ {
		if samples[i] != samples[i-1]+1 {
			t.Fatalf("%s: sample %d is %d after %d: the counter has a hole", shown[0], i, samples[i], samples[i-1])
		}
	}
	b, err := os.ReadFile(strings.TrimSuffix(path, ".wav") + ".json")
	if err != nil {
		t.Fatal(err)
	}
	var sc struct {
		Complete bool              `json:"complete"`
		Samples  int               `json:"samples"`
		Labels   map[string]string `json:"labels"`
		Gaps     []any             `json:"gaps"`
	}
	if err := json.Unmarshal(b, &sc); err != nil {
		t.Fatal(err)
	}
	if !sc.Complete || sc.Samples != len(samples) || r.Samples != len(samples) || len(samples) < 8000 ||
		sc.Labels["speaker"] != "ann" || sc.Labels["word"] != "yes" || len(sc.Gaps) != 0 {
		t.Fatalf("sidecar %+v, WAV %d samples, page %d: want complete, all equal (>= 8000), the labels, no gap", sc, len(samples), r.Samples)
	}
	fi, _ := os.Stat(path)
	var got int64
	tb.eval(`fetch(document.querySelector("#rec-files a[data-file]").href).then((r) => r.arrayBuffer()).then((b) => b.byteLength)`, &got)
	if got != fi.Size() {
		t.Errorf("the page's link gives %d bytes, the file holds %d", got, fi.Size())
	}
	tb.noProblems()
}

// TestPageRecordDisabled: without --record-dir the record button is
// disabled and the page says how to enable it.
func TestPageRecordDisabled(t *testing.T) {
	parallelPage(t, light)
	tb := newTab(t)
	srv := startServe(t, simOpts{Signal: "sine", Rate: 8000, Channels: 1})
	tb.open(srv.URL)
	tb.waitFor("the explanation", `!document.getElementById("recorder").hidden && !document.getElementById("rec-why").hidden &&
		document.getElementById("rec-why").textContent.includes("record-dir")`, 10*time.Second)
	var disabled bool
	tb.eval(`document.getElementById("rec-button").disabled && document.getElementById("rec-labels").disabled`, &disabled)
	if why := tb.text("rec-why"); !disabled || !strings.Contains(why, "--record-dir DIR") {
		t.Errorf("button disabled %v, the page says %q: want disabled, naming --record-dir", disabled, why)
	}
	tb.noProblems()
}
