import { test } from "node:test";
import assert from "node:assert/strict";
import { BUCKET, EnvTrack, Track } from "../static/js/ring.js";
import { parseEnvelope } from "../static/js/packet.js";
import { envelope } from "./packets.js";

/** A deterministic generator in [-1, 1). */
function lcg(seed = 1) {
  return () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648) * 2 - 1;
}

test("Track.range equals a brute-force min/max across wrap-around and holes", () => {
  const rnd = lcg();
  const tr = new Track(100, 1); // rings: 1024 raw, 16 buckets of 64
  /** @type {number[]} */
  const all = [];
  const push = (/** @type {number[]} */ vals) => {
    tr.push(Float32Array.from(vals), 0, 1, vals.length);
    all.push(...vals);
  };
  for (let i = 0; i < 40; i++) push(Array.from({ length: 37 }, () => Math.round(rnd() * 1000)));
  tr.hole(5);
  for (let i = 0; i < 5; i++) all.push(NaN);
  for (let i = 0; i < 10; i++) push(Array.from({ length: 53 }, () => Math.round(rnd() * 1000)));
  assert.equal(tr.total, all.length);
  const out = [0, 0];
  for (let k = 0; k < 500; k++) {
    const s0 = tr.total - 1 - Math.floor(Math.abs(rnd()) * 1000), s1 = Math.min(tr.total, s0 + 1 + Math.floor(Math.abs(rnd()) * 300));
    const got = tr.range(s0, s1, out);
    let mn = Infinity, mx = -Infinity;
    for (let i = s0; i < s1; i++) if (all[i] === all[i]) [mn, mx] = [Math.min(mn, all[i]), Math.max(mx, all[i])];
    if (mn > mx) {
      assert.equal(got, null, `range ${s0}..${s1} holds only holes`);
      continue;
    }
    // A left edge older than the raw ring is read from its whole bucket.
    let wmn = mn, wmx = mx;
    for (let i = BUCKET * Math.floor(s0 / BUCKET); i < s0; i++) if (all[i] === all[i]) [wmn, wmx] = [Math.min(wmn, all[i]), Math.max(wmx, all[i])];
    assert.ok(got, `range ${s0}..${s1}: null, want ${mn}..${mx}`);
    const exact = s0 >= tr.rawFrom();
    assert.ok(exact ? got[0] === mn && got[1] === mx : got[0] >= wmn && got[0] <= mn && got[1] <= wmx && got[1] >= mx,
      `range ${s0}..${s1}: ${got}, want ${mn},${mx}${exact ? "" : ` (bucket-widened at most ${wmn},${wmx})`}`);
  }
});

test("Track.at and copy return what the raw ring holds, NaN beyond it", () => {
  const tr = new Track(100, 1);
  const vals = Float32Array.from({ length: 1500 }, (_, i) => i);
  tr.push(vals, 0, 1, vals.length);
  assert.equal(tr.at(1499), 1499);
  assert.equal(tr.at(1500 - 1024), 476);
  assert.ok(Number.isNaN(tr.at(1500 - 1025)), "the raw ring holds 1024 samples");
  assert.ok(Number.isNaN(tr.at(1500)));
  assert.deepEqual(Array.from(tr.copy(1497, 1502)), [1497, 1498, 1499, NaN, NaN]);
});

test("Track.push takes one channel of interleaved samples", () => {
  const tr = new Track(1000, 3);
  tr.push([10, 20, 30, 11, 21, 31], 1, 3, 2);
  assert.deepEqual(Array.from(tr.copy(0, 2)), [20, 21]);
});

test("a hole longer than the raw ring clears the buckets it covers", () => {
  const tr = new Track(100, 1);
  tr.push(new Float32Array(2048).fill(5), 0, 1, 2048);
  tr.hole(5000);
  tr.push([7], 0, 1, 1);
  assert.equal(tr.total, 2048 + 5000 + 1);
  assert.deepEqual(tr.range(tr.total - 1, tr.total, [0, 0]), [7, 7]);
  assert.equal(tr.range(2048, 2048 + 5000, [0, 0]), null, "the hole holds no samples");
});

test("EnvTrack ranges equal the samples' min/max, joining envelopes that split a point", () => {
  const vals = Array.from({ length: 100 }, (_, i) => Math.round(1000 * Math.sin(i / 3)));
  const tr = new EnvTrack(1000, 8);
  // Envelopes of 13, 27 and 60 instants on one grid of 8 from index 0.
  let at = 0, seq = 0;
  for (const len of [13, 27, 60]) {
    const e = parseEnvelope(envelope({ seq, lastSeq: seq, rate: 1000, n: 8, phase: at % 8, samples: vals.slice(at, at + len) }));
    tr.push(e, 0, seq > 0);
    at += len;
    seq++;
  }
  assert.equal(tr.total, 100);
  assert.equal(tr.count, Math.ceil(100 / 8), "partial points merged: one point per 8 instants");
  const out = [0, 0];
  for (let s0 = 0; s0 < 100; s0 += 8) {
    const s1 = Math.min(100, s0 + 8), want = vals.slice(s0, s1);
    assert.deepEqual(tr.range(s0, s1, out), [Math.min(...want), Math.max(...want)], `point at ${s0}`);
  }
  // A span inside points widens to the points that cover it.
  const w = vals.slice(8, 24);
  assert.deepEqual(tr.range(10, 20, out), [Math.min(...w), Math.max(...w)]);
  tr.hole(16);
  assert.equal(tr.range(100, 116, out), null, "a hole holds no point");
  assert.ok(Number.isNaN(tr.at(105)));
  assert.ok(Number.isNaN(tr.copy(0, 3)[0]), "an envelope holds no samples");
});
