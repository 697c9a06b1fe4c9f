import { test } from "node:test";
import assert from "node:assert/strict";
import { fmtElapsed, parseLabels, progressText } from "../static/js/record.js";

test("labels are key=value pairs separated by spaces or commas", () => {
  assert.deepEqual(parseLabels(""), { labels: [], error: "" });
  assert.deepEqual(parseLabels("  speaker=ann word=yes "), { labels: ["speaker=ann", "word=yes"], error: "" });
  assert.deepEqual(parseLabels("speaker=ann,word=yes, take=3"), { labels: ["speaker=ann", "word=yes", "take=3"], error: "" });
  assert.deepEqual(parseLabels("note= empty=").labels, ["note=", "empty="]);
  assert.deepEqual(parseLabels("url=http://x/y?a=b").labels, ["url=http://x/y?a=b"]); // the first = splits
  assert.match(parseLabels("speaker").error, /label "speaker": want key=value/);
  assert.match(parseLabels("a/b=1").error, /label "a\/b=1"/);
  assert.match(parseLabels("=x").error, /label "=x"/);
  assert.match(parseLabels("k=1 k=2").error, /key "k" is given twice/);
});

test("elapsed time reads m:ss, h:mm:ss from an hour", () => {
  assert.equal(fmtElapsed(0), "0:00");
  assert.equal(fmtElapsed(9.9), "0:09");
  assert.equal(fmtElapsed(75), "1:15");
  assert.equal(fmtElapsed(3600 + 62), "1:01:02");
  assert.equal(fmtElapsed(-1), "0:00");
});

/** @param {object} over */
const rec = (over) => ({
  id: "mic-20250102T150405Z", channel: "mic", state: "recording", started_at: "", elapsed_s: 0, labels: {}, dir: "/data/rec",
  files: [], frames: 10, samples: 192000, gaps: 0, lost_frames: 0, restarts: 0, ...over,
});

test("progress says the time, the samples and the gaps", () => {
  assert.equal(progressText(rec({}), 12.4), "● REC 0:12 · 192,000 samples · 0 gaps");
  assert.equal(progressText(rec({ gaps: 1, lost_frames: 10 }), 3), "● REC 0:03 · 192,000 samples · 1 gap (10 frames lost)");
  assert.equal(progressText(rec({ state: "stopping" }), 3), "Stopping… 0:03 · 192,000 samples · 0 gaps");
  const f = { name: "a.wav", sidecar: "a.json", open: false, bytes: 1, url: "", sidecar_url: "" };
  assert.equal(progressText(rec({ state: "done", ended_by: "stop", files: [f] }), 30),
    "Recorded 0:30 (stopped) · 192,000 samples · 0 gaps · 1 file in /data/rec");
  assert.equal(progressText(rec({ state: "done", ended_by: "shutdown", files: [f, f] }), 30),
    "Recorded 0:30 (serve stopped) · 192,000 samples · 0 gaps · 2 files in /data/rec");
  assert.match(progressText(rec({ state: "failed", error: "disk full" }), 5), /^Recording failed after 0:05: disk full/);
});
