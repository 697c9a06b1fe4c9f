import { test } from "node:test";
import assert from "node:assert/strict";
import { fmtValue, niceStep, Scale, snap } from "../static/js/scale.js";

test("niceStep rounds up to 1, 2 or 5 times a power of ten", () => {
  assert.deepEqual([0.3, 1, 1.5, 3, 7, 12, 1736, 0.0042].map(niceStep), [0.5, 1, 2, 5, 10, 20, 2000, 0.005]);
});

test("snap widens to round numbers without float noise", () => {
  assert.deepEqual(snap(-17366.1, 17366.1), [-18000, 18000]);
  assert.deepEqual(snap(0.1, 0.7), [0.1, 0.7]);
  assert.deepEqual(snap(11168.1, 29086.9), [11000, 30000]);
});

test("autoscale shows round numbers, the same on the axis and in the boxes", () => {
  const s = new Scale();
  const [lo, hi] = s.fit(12034, 28871);
  assert.deepEqual([lo, hi], [11000, 30000]);
  assert.deepEqual(s.range(), [lo, hi]);
  assert.deepEqual([fmtValue(lo), fmtValue(hi)], ["11000", "30000"]);
  assert.equal(fmtValue(-0), "0");
  assert.equal(fmtValue(0.30000000000000004), "0.3");
  assert.equal(fmtValue(NaN), "");
});

test("autoscale grows at once and shrinks only below half", () => {
  const s = new Scale();
  const first = s.fit(-1000, 1000);
  assert.deepEqual(s.fit(-900, 900), first, "a little less data keeps the range");
  assert.notDeepEqual(s.fit(-2000, 2000), first, "more data grows it at once");
  const grown = s.range();
  assert.deepEqual(s.fit(-1300, 1300), grown, "more than half keeps it");
  assert.ok(s.fit(-100, 100)[1] < 200, "less than half shrinks it");
  assert.deepEqual(s.fit(NaN, NaN), s.range(), "no data keeps the range");
});

test("a fixed range is what the user set", () => {
  const s = new Scale();
  s.auto = false;
  s.fixedMin = -5;
  s.fixedMax = 5;
  assert.deepEqual(s.fit(-1000, 1000), [-5, 5]);
  assert.deepEqual(s.range(), [-5, 5]);
});
