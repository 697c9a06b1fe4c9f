import { test } from "node:test";
import assert from "node:assert/strict";
import { Gaps } from "../static/js/gaps.js";

/**
 * @param {number} from
 * @param {number} to
 * @param {string} reason
 * @param {string} [epoch]
 */
const gap = (from, to, reason, epoch) => ({ kind: "gap", m: { from, to, count: to - from + 1, reason, epoch } });
/**
 * @param {string} epoch
 * @param {number} start_seq
 * @param {number} seq
 */
const hello = (epoch, start_seq, seq) => ({ kind: "hello", m: { epoch, start_seq, seq } });
/**
 * @param {number | null} seq
 * @param {string} [epoch]
 */
const restart = (seq, epoch) => ({ kind: "restart", seq, epoch });

/**
 * run feeds steps to a Gaps (numbers are frames of 10 samples) and sums up
 * its counters in one line.
 * @param {(number | {kind: string, m?: any, seq?: number | null, epoch?: string})[]} steps
 */
function run(steps) {
  const S = { gaps: 0, lostFrames: 0, gapsByReason: /** @type {Record<string, number>} */ ({}), restarts: 0, firstSeq: null, lastSeq: null, epoch: "" };
  /** @type {string[]} */
  const notes = [];
  let holes = 0;
  const g = new Gaps(S, (n) => (holes += n), (t) => notes.push(t));
  for (const s of steps) {
    if (typeof s === "number") g.frame(s, 10);
    else if (s.kind === "gap") g.message(s.m);
    else if (s.kind === "hello") g.hello(s.m);
    else g.restart(s.seq ?? null, s.epoch);
  }
  const by = Object.entries(S.gapsByReason).filter(([, v]) => v).sort().map(([k, v]) => k + ":" + v).join(",");
  return { line: `lost ${S.lostFrames} gaps ${S.gaps} ${by} restarts ${S.restarts} seqs ${S.firstSeq}..${S.lastSeq} epoch ${S.epoch || "-"}`, notes, g, holes };
}

test("each loss is counted once, whatever order serve's messages come in", () => {
  const cases = {
    "a gap replayed after a resume": [[0, 1, gap(2, 4, "device"), gap(2, 4, "device"), 5], "lost 3 gaps 1 device:1 restarts 0 seqs 0..5 epoch -"],
    "one jump, two messages": [[0, gap(1, 2, "device"), gap(3, 4, "slow_client"), 5], "lost 4 gaps 2 device:1,slow_client:1 restarts 0 seqs 0..5 epoch -"],
    "a loss before the first frame": [[gap(10, 19, "history"), 20, 21], "lost 10 gaps 1 history:1 restarts 0 seqs 10..21 epoch -"],
    "an announced loss cut off by a restart": [[0, gap(1, 2, "device"), restart(null), 0], "lost 2 gaps 1 device:1 restarts 1 seqs 0..0 epoch -"],
    "a jump explained afterwards": [[0, 3, gap(1, 2, "device"), 4], "lost 2 gaps 1 device:1 restarts 0 seqs 0..4 epoch -"],
    "an unexplained jump": [[0, 3], "lost 2 gaps 1 unannounced:1 restarts 0 seqs 0..3 epoch -"],
    "a seq that goes back without a message": [[5, 6, 0, 1], "lost 0 gaps 0  restarts 1 seqs 0..1 epoch -"],
  };
  for (const [name, [steps, want]] of Object.entries(cases)) {
    assert.equal(run(/** @type {any} */ (steps)).line, want, name);
  }
});

test("epochs: a restart is counted once, whichever message reveals it", () => {
  const cases = {
    "a same-epoch resume": [[hello("aa", 0, 0), 0, 1, 2, hello("aa", 3, 9), 3, 4], "lost 0 gaps 0  restarts 0 seqs 0..4 epoch aa"],
    "a same-epoch resume whose start was trimmed": [[hello("aa", 0, 0), 0, 1, hello("aa", 5, 9), gap(2, 4, "history", "aa"), 5],
      "lost 3 gaps 1 history:1 restarts 0 seqs 0..5 epoch aa"],
    "a resume into a new serve: hello, then the restart status": [[hello("aa", 0, 0), 0, 1, 2, hello("bb", 0, 20), restart(0, "bb"), 0, 1],
      "lost 0 gaps 0  restarts 1 seqs 0..1 epoch bb"],
    "a resume into a new serve whose start was trimmed": [[hello("aa", 0, 0), 0, 1, 2, hello("bb", 7, 20), restart(0, "bb"),
      gap(0, 6, "history", "bb"), 7, 8], "lost 7 gaps 1 history:1 restarts 1 seqs 0..8 epoch bb"],
    "a device restart while live": [[hello("aa", 0, 0), 0, 1, 2, restart(0, "bb"), 0, 1], "lost 0 gaps 0  restarts 1 seqs 0..1 epoch bb"],
    "two device restarts": [[hello("aa", 0, 0), 0, 1, restart(0, "bb"), 0, restart(0, "cc"), 0], "lost 0 gaps 0  restarts 2 seqs 0..0 epoch cc"],
    "a server without epochs that resumes behind what was asked": [[hello("", 0, 0), 0, 1, 2, 3, 4, hello("", 0, 3), 0, 1],
      "lost 0 gaps 0  restarts 1 seqs 0..1 epoch -"],
    "a server that replays frames the page has, same epoch": [[hello("aa", 0, 0), 0, 1, 2, 3, hello("aa", 1, 4), 1, 2],
      "lost 0 gaps 0  restarts 1 seqs 1..2 epoch aa"],
    "a gap of another epoch is lost at once": [[hello("aa", 0, 0), 0, 1, gap(7, 9, "device", "zz"), 2], "lost 3 gaps 1 device:1 restarts 0 seqs 0..2 epoch aa"],
    "a restart before any frame": [[hello("aa", 0, 0), restart(0, "bb"), 0], "lost 0 gaps 0  restarts 0 seqs 0..0 epoch bb"],
  };
  for (const [name, [steps, want]] of Object.entries(cases)) {
    assert.equal(run(/** @type {any} */ (steps)).line, want, name);
  }
});

test("a restart's log line names both epochs and seqs", () => {
  const r = run([hello("aa", 0, 0), 0, 1, 2, hello("bb", 0, 20), restart(0, "bb")]);
  const line = r.notes.find((n) => n.startsWith("restart:"));
  assert.equal(line, "restart: serve's count started over; epoch aa ended at seq 2, epoch bb goes on from seq 0");
  assert.deepEqual(r.g.history, [{ from: "aa", to: "bb", lastSeq: 2, seq: 0 }]);
  assert.ok(r.holes >= 1, "the trace is broken at the restart");
});

test("since resumes within the epoch", () => {
  const r = run([hello("aa", 0, 0), 0, 1, 2]);
  assert.deepEqual(r.g.since(), { seq: 3, epoch: "aa" });
  assert.equal(run([]).g.since(), null);
  const after = run([hello("aa", 0, 0), 0, restart(0, "bb")]);
  assert.deepEqual(after.g.since(), { seq: 0, epoch: "bb" });
});

test("a rewind fetches frames again without counting them again", () => {
  const S = { gaps: 0, lostFrames: 0, gapsByReason: /** @type {Record<string, number>} */ ({}), restarts: 0, firstSeq: null, lastSeq: null, epoch: "aa" };
  const g = new Gaps(S, () => {}, () => {});
  const counted = [];
  const frame = (/** @type {number} */ s, /** @type {number} */ last = s) => counted.push(g.frame(s, 10, last));
  frame(0);
  frame(1);
  g.message({ from: 2, to: 3, count: 2, reason: "device" });
  frame(4);
  frame(5, 7); // an envelope of frames 5..7
  assert.deepEqual([S.lostFrames, S.gaps, S.lastSeq], [2, 1, 7]);
  g.rewind(1);
  assert.deepEqual(g.since(), { seq: 1, epoch: "aa" });
  counted.length = 0;
  g.message({ from: 2, to: 3, count: 2, reason: "device" }); // serve repeats the gap in the replay
  frame(1);
  frame(4, 6);
  frame(7, 9); // 7 was counted, 8 and 9 are new
  frame(10);
  assert.deepEqual(counted, [0, 0, 2, 1]);
  assert.deepEqual([S.lostFrames, S.gaps, S.lastSeq, S.restarts], [2, 1, 10, 0], "nothing counted twice, no restart");
  assert.equal(g.recount, null);
});

test("serve's stopping status: what it would have sent next and never did is one serve_stopped gap", () => {
  const mk = () => {
    const S = { gaps: 0, lostFrames: 0, gapsByReason: /** @type {Record<string, number>} */ ({}), restarts: 0, firstSeq: null, lastSeq: null, epoch: "aa" };
    return { S, g: new Gaps(S, () => {}, () => {}) };
  };
  let { S, g } = mk();
  g.frame(0, 10);
  g.frame(1, 10);
  assert.equal(g.stopping(2, "aa"), 0, "everything arrived");
  assert.deepEqual([S.gaps, S.lostFrames], [0, 0]);
  ({ S, g } = mk());
  g.frame(0, 10);
  assert.equal(g.stopping(5, "aa"), 4);
  assert.deepEqual([S.gaps, S.lostFrames, S.gapsByReason.serve_stopped], [1, 4, 1]);
  g.hello({ epoch: "bb", start_seq: 0, seq: 3 }); // the next serve
  g.restart(0, "bb");
  g.frame(0, 10);
  assert.deepEqual([S.restarts, S.lostFrames, S.gaps], [1, 4, 1], "the restart counts nothing more");
  ({ S, g } = mk());
  g.frame(0, 10);
  assert.equal(g.stopping(9, "zz"), 0, "another epoch's stop is not ours");
});
