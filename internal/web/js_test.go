package web

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/wsbridge/wsbridge/internal/testenv"
)

// The page's DOM-free modules (static/js: packet, ring, gaps, fft, csv,
// scale, stream, conn's URL and backoff) are tested in Node by
// jstest/*.test.js, and every module of the page is type-checked from its
// JSDoc by TypeScript (tsconfig.json, strict). package.json pins the one
// tool, installed by npm at test time into node_modules (git-ignored);
// nothing of it ships. By hand: cd internal/web && npm ci && npm test &&
// npm run typecheck.

// TestJSUnits runs jstest/*.test.js with node --test (packet.test.js
// reads the golden table, internal/frame/frametest/golden.json).
func TestJSUnits(t *testing.T) {
	t.Parallel() // beside the browser tests: node is another process
	node := testenv.Need(t, "node", "nodejs")
	files, err := filepath.Glob(filepath.Join("jstest", "*.test.js"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no jstest/*.test.js: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, append([]string{"--test", "--test-reporter=tap"}, files...)...)
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
	t.Parallel()
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
