package web

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/wsbridge/wsbridge/internal/frame"
	"github.com/wsbridge/wsbridge/internal/frame/frametest"
	"github.com/wsbridge/wsbridge/internal/testenv"
)

// The page's DOM-free modules (static/js: packet, ring, gaps, fft, csv,
// scale, stream, conn's URL and backoff) are tested in Node by
// jstest/*.test.js, and every module of the page is type-checked from its
// JSDoc by TypeScript (tsconfig.json, strict). package.json pins the one
// tool, installed by npm at test time into node_modules (git-ignored);
// nothing of it ships. By hand: cd internal/web && npm ci && npm test &&
// npm run typecheck.

// TestJSUnits runs jstest/*.test.js with node --test, handing the golden
// packet table to packet.test.js as JSON.
func TestJSUnits(t *testing.T) {
	node := testenv.Need(t, "node", "nodejs")
	files, err := filepath.Glob(filepath.Join("jstest", "*.test.js"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no jstest/*.test.js: %v", err)
	}
	golden := filepath.Join(t.TempDir(), "golden.json")
	writeGoldenJSON(t, golden)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, append([]string{"--test", "--test-reporter=tap"}, files...)...)
	cmd.Env = append(os.Environ(), "WSBRIDGE_GOLDEN="+golden)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("node --test %v: %v\n%s", files, err, out)
	}
	t.Logf("%s", tapSummary(out))
}

// TestJSTypes type-checks the page's JavaScript with tsc (--noEmit,
// --allowJs --checkJs, strict; see tsconfig.json). Without node_modules it
// runs npm ci first; offline, it skips (fails under CI=true).
func TestJSTypes(t *testing.T) {
	node := testenv.Need(t, "node", "nodejs")
	tsc := filepath.Join("node_modules", "typescript", "bin", "tsc")
	if _, err := os.Stat(tsc); err != nil {
		npm := testenv.Need(t, "npm", "npm")
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		out, err := exec.CommandContext(ctx, npm, "ci", "--no-audit", "--no-fund", "--fetch-retries=1", "--fetch-timeout=30000").CombinedOutput()
		if err != nil {
			msg := "npm ci (for typescript) failed; offline? " + err.Error() + "\n" + string(out)
			if os.Getenv("CI") == "true" {
				t.Fatal(msg)
			}
			t.Skip(msg)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, node, tsc, "-p", "tsconfig.json").CombinedOutput()
	if err != nil {
		t.Fatalf("tsc -p tsconfig.json: %v\n%s", err, out)
	}
}

// goldenJSON is the golden table as packet.test.js reads it: each success
// case with the fields parsePacket must return, each failure case with the
// PacketError kind the page must throw ("" for a case of the serial line,
// which the page never sees: it gets packets without COBS).
type goldenJSON struct {
	OK   []goldenOK   `json:"ok"`
	Fail []goldenFail `json:"fail"`
}

type goldenOK struct {
	Name string         `json:"name"`
	Hex  string         `json:"hex"`
	Want map[string]any `json:"want"`
}

type goldenFail struct {
	Name string `json:"name"`
	Hex  string `json:"hex"`
	Page string `json:"page"`
}

func writeGoldenJSON(t *testing.T, path string) {
	t.Helper()
	g := goldenJSON{Fail: []goldenFail{}}
	for _, c := range frametest.Golden {
		g.OK = append(g.OK, goldenOK{Name: c.Name, Hex: c.Hex, Want: pageFields(c)})
	}
	b, err := json.Marshal(g)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, path, b)
}

// pageFields is what packet.js's parsePacket returns for a golden case.
func pageFields(c frametest.Case) map[string]any {
	p := c.Packet
	switch p.Type {
	case frame.TypeData:
		f := p.Frame
		return map[string]any{"type": "data", "seq": f.Seq, "tUs": f.TimeUS, "rate": f.Rate, "channels": f.Channels,
			"sampleType": f.SampleType, "count": f.Count, "samples": c.Values}
	case frame.TypeInfo:
		in := p.Info
		ci := in.ChannelInfo
		if ci == nil {
			ci = []frame.Channel{}
		}
		return map[string]any{"type": "info", "name": in.Name, "firmware": in.Firmware, "rate": in.Rate,
			"channels": in.Channels, "frame_samples": in.FrameSamples, "sample_type": in.SampleType.String(), "channel_info": ci}
	case frame.TypeLog:
		return map[string]any{"type": "log", "text": string(p.Text)}
	case frame.TypeReply:
		return map[string]any{"type": "reply", "ok": p.Status == frame.ReplyOK, "text": string(p.Text)}
	}
	return map[string]any{"type": "unknown"}
}

// tapSummary keeps the summary lines of node's TAP output.
func tapSummary(out []byte) []byte {
	var sum []byte
	for l := range bytes.Lines(out) {
		if bytes.HasPrefix(l, []byte("# ")) && !bytes.HasPrefix(l, []byte("# Subtest")) {
			sum = append(sum, l...)
		}
	}
	return sum
}
