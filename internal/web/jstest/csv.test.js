import { test } from "node:test";
import assert from "node:assert/strict";
import { Track } from "../static/js/ring.js";
import { toCSV } from "../static/js/csv.js";

test("CSV rows are the newest samples with device times stepping back from the last", () => {
  const t = new Track(1000, 1);
  t.push(Float32Array.from([1, 2, 3, 4]), 0, 1, 4);
  const { text, rows } = toCSV([t], 1000, 0.003, 5000, ["v (mV)"]);
  assert.equal(text, "time_s,v (mV)\n0.003000,2\n0.004000,3\n0.005000,4\n");
  assert.equal(rows, 3);
});

test("CSV holes are empty cells and titles are quoted when needed", () => {
  const a = new Track(100, 2), b = new Track(100, 2);
  a.push([1, 2], 0, 1, 2);
  b.push([3, 4], 0, 1, 2);
  a.hole(1);
  b.hole(1);
  a.push([5], 0, 1, 1);
  b.push([6], 0, 1, 1);
  const { text } = toCSV([a, b], 100, 1, 1e6, ['say "hi"', "x,y"]);
  assert.equal(text, 'time_s,"say ""hi""","x,y"\n0.970000,1,3\n0.980000,2,4\n0.990000,,\n1.000000,5,6\n');
});
