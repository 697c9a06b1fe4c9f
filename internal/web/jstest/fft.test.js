import { test } from "node:test";
import assert from "node:assert/strict";
import { columnBins, columnLevel, columnLevels, fft, peak, readAt, refine, SNAP_DB, spectrum } from "../static/js/fft.js";

test("fft equals a naive DFT", () => {
  let seed = 7;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648) * 2 - 1;
  for (const n of [2, 8, 64, 1024]) {
    const re = Float64Array.from({ length: n }, rnd), im = Float64Array.from({ length: n }, rnd);
    const r0 = re.slice(), i0 = im.slice();
    fft(re, im);
    for (let k = 0; k < n; k++) {
      let sr = 0, si = 0;
      for (let j = 0; j < n; j++) {
        const a = (-2 * Math.PI * j * k) / n;
        sr += r0[j] * Math.cos(a) - i0[j] * Math.sin(a);
        si += r0[j] * Math.sin(a) + i0[j] * Math.cos(a);
      }
      assert.ok(Math.abs(sr - re[k]) < 1e-6 * n && Math.abs(si - im[k]) < 1e-6 * n, `n=${n} bin ${k}`);
    }
  }
  assert.throws(() => fft(new Float64Array(6), new Float64Array(6)), /not a power of two/);
});

/**
 * sine returns n samples of amplitude a at hz, sampled at rate.
 * @param {number} n
 * @param {number} a
 * @param {number} hz
 * @param {number} rate
 */
function sine(n, a, hz, rate) {
  return Float32Array.from({ length: n }, (_, i) => a * Math.sin((2 * Math.PI * hz * i) / rate + 0.3));
}

/**
 * add returns the sum of sample arrays.
 * @param {...Float32Array} xs
 */
function add(...xs) {
  return xs[0].map((_, i) => xs.reduce((s, x) => s + x[i], 0));
}

test("a sine of amplitude 1000 on bin 100 peaks there at 60 dB", () => {
  const db = spectrum(sine(4096, 1000, 100, 4096));
  const p = peak(db, 4096);
  assert.ok(p);
  assert.equal(p.bin, 100);
  assert.ok(Math.abs(p.hz - 100) < 0.01, `peak at ${p.hz} Hz`);
  assert.ok(Math.abs(p.db - 60) < 0.1, `peak level ${p.db} dB`);
});

test("peak refines a tone between bins: 440 Hz at 48 kHz in 16384 points", () => {
  const rate = 48000, db = spectrum(sine(16384, 1000, 440, rate));
  const p = peak(db, rate);
  assert.ok(p);
  assert.ok(Math.abs(p.hz - 440) < 0.001 * (rate / 16384), `peak at ${p.hz} Hz, bins are ${rate / 16384} Hz`);
  assert.ok(Math.abs(p.db - 60) < 0.01, `peak level ${p.db} dB, want 60 within 0.01`);
});

// The refinement's error over a tone's position between bins, for short and
// long transforms, near DC and far from it: what refine's comment claims.
test("refine finds a tone anywhere between bins within 0.004 bin and 0.02 dB", () => {
  for (const [n, k0] of [[256, 10], [4096, 3], [4096, 100], [16384, 150]]) {
    let worstHz = 0, worstDB = 0, parabolaHz = 0, parabolaDB = 0;
    for (let d = 0; d <= 1; d += 0.05) {
      const db = spectrum(sine(n, 1000, k0 + d, n));
      const p = peak(db, n);
      assert.ok(p);
      worstHz = Math.max(worstHz, Math.abs(p.hz - (k0 + d)));
      worstDB = Math.max(worstDB, Math.abs(p.db - 60));
      // what a parabola through the three levels in dB would say
      const k = p.bin, a = db[k - 1], b = db[k], c = db[k + 1], q = (0.5 * (a - c)) / (a - 2 * b + c);
      parabolaHz = Math.max(parabolaHz, Math.abs(k + q - (k0 + d)));
      parabolaDB = Math.max(parabolaDB, Math.abs(b - 0.25 * (a - c) * q - 60));
    }
    assert.ok(worstHz < 0.004 && worstDB < 0.02, `n=${n} near bin ${k0}: off by up to ${worstHz} bin, ${worstDB} dB`);
    if (k0 >= 10) assert.ok(parabolaHz > 2 * worstHz && parabolaDB > 5 * worstDB, `n=${n}: the parabola is off by ${parabolaHz} bin, ${parabolaDB} dB only`);
  }
});

test("a bin that is not a peak is read as it is", () => {
  const rate = 8192, db = spectrum(sine(1024, 1000, 100.3, rate));
  const k = Math.round((100.3 * 1024) / rate) + 3; // on the lobe's flank
  assert.deepEqual(refine(db, k, rate), { bin: k, hz: (k * rate) / 1024, db: db[k] });
});

test("two tones: the peak is the louder, the quieter is read where it is drawn", () => {
  const rate = 48000, n = 16384, w = 1200;
  const db = spectrum(add(sine(n, 1000, 440, rate), sine(n, 100, 1234.5, rate)));
  const p = peak(db, rate);
  assert.ok(p && Math.abs(p.hz - 440) < 0.01 && Math.abs(p.db - 60) < 0.02, `peak ${JSON.stringify(p)}`);
  const x = Math.floor((1234.5 / (rate / 2)) * w); // the column the quieter tone is drawn in
  const r = readAt(db, rate, x, w);
  assert.ok(r.peak && Math.abs(r.hz - 1234.5) < 0.01 && Math.abs(r.db - 40) < 0.05, `at column ${x}: ${JSON.stringify(r)}`);
  assert.equal(columnLevel(db, x, w), db[r.bin], "the column draws the bin read");
  // Two columns off, the flank is read at its own bin; snapping finds the tone.
  const off = readAt(db, rate, x + 2, w);
  assert.ok(!off.peak && off.hz === (off.bin * rate) / n && off.db < 40 - 20, `2 columns off: ${JSON.stringify(off)}`);
  const snapped = readAt(db, rate, x + 2, w, 3);
  assert.ok(snapped.peak && snapped.x === x && Math.abs(snapped.hz - 1234.5) < 0.01, `snapped: ${JSON.stringify(snapped)}`);
});

test("the cursor snaps only to a peak that stands out", () => {
  // 64 columns of 4 bins (256 bins, 1 Hz each at rate 512); a floor at
  // -20 dB with a slope, a bump SNAP_DB - 1 above it in column 30 and a peak
  // SNAP_DB + 1 above it in column 40.
  const db = Float32Array.from({ length: 257 }, (_, b) => -20 - b / 1000);
  db[122] = -20 + SNAP_DB - 1;
  db[162] = -20 + SNAP_DB + 1;
  const at = (/** @type {number} */ x, /** @type {number} */ snap) => readAt(db, 512, x, 64, snap);
  assert.deepEqual([at(32, 3).x, at(32, 3).bin, at(32, 3).peak], [32, 128, false], "a bump below SNAP_DB: the cursor's own column, its highest bin");
  assert.deepEqual([at(37, 3).x, at(37, 3).peak], [40, true], "a peak 3 columns off is read");
  assert.equal(at(37, 3).hz, 162, "at its own bin (a lone bin is not a tone's lobe: no refinement)");
  assert.deepEqual([at(36, 3).x, at(36, 3).bin], [36, 144], "4 columns off is beyond the snap");
  assert.deepEqual([at(37, 0).x, at(37, 0).bin], [37, 148], "no snap: the cursor's column");
});

test("every bin is drawn in the column of its frequency", () => {
  for (const [bins, w] of [[8192, 1200], [128, 1200], [1200, 1200], [4096, 333]]) {
    const seen = new Int32Array(bins + 1).fill(-1);
    for (let x = 0; x < w; x++) {
      const [b0, b1] = columnBins(bins, x, w);
      assert.ok(b0 < b1 && b0 >= 0 && b1 <= bins + 1, `${bins} bins in ${w} columns: column ${x} has [${b0}, ${b1})`);
      for (let b = b0; b < b1; b++) {
        const f = b / bins; // the bin's frequency over half the rate
        assert.ok(bins < w || seen[b] < 0, `bin ${b} in two columns`);
        if (bins >= w) assert.ok(f >= x / w && f < (x + 1) / w, `bin ${b} (${f}) drawn in column ${x} of ${w}`);
        else assert.ok(Math.abs(f - (x + 0.5) / w) <= 0.5 / bins + 1e-12, `bin ${b} (${f}) drawn in column ${x} of ${w}: not the nearest`);
        seen[b] = x;
      }
    }
    if (bins >= w) assert.ok(seen.slice(0, bins).every((x) => x >= 0), `${bins} bins in ${w} columns: a bin below half the rate is never drawn`);
    // columnLevels, the drawing's one call per lane, draws the same bins
    const db = Float32Array.from({ length: bins + 1 }, (_, b) => Math.sin(b * 1.7) * 40);
    const levels = new Float32Array(w);
    columnLevels(db, w, levels, -30);
    for (let x = 0; x < w; x++) assert.equal(levels[x], Math.fround(Math.max(-30, columnLevel(db, x, w))), `${bins} bins in ${w} columns: column ${x}`);
  }
});

test("the mean is removed and NaN counts as the mean", () => {
  const x = sine(1024, 100, 64, 1024).map((v) => v + 5000);
  x[10] = NaN;
  const db = spectrum(x);
  assert.ok(db[0] < db[64] - 60, `DC ${db[0]} dB against the tone's ${db[64]} dB`);
  const p = peak(db, 1024);
  assert.ok(p && p.bin === 64);
  assert.equal(peak(new Float32Array(9).fill(NaN), 16), null, "no peak in a spectrum of NaN");
});
